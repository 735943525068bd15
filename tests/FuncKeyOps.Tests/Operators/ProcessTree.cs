using System.Globalization;
using System.Runtime.InteropServices;

namespace FuncKeyOps.Tests.Operators;

/// <summary>Linux process facts from /proc and signals by pid or process group, for tests of scripts that start processes.</summary>
internal static class ProcessTree
{
    public const int SigInt = 2;
    public const int SigKill = 9;

    /// <summary>Every live descendant of <paramref name="root"/> (children, their children, ...), whatever session they moved to.</summary>
    public static IReadOnlySet<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var (pid, parent) in ParentsOfAll())
        {
            if (!children.TryGetValue(parent, out var list))
                children[parent] = list = [];
            list.Add(pid);
        }

        var found = new HashSet<int>();
        var pending = new Stack<int>([root]);
        while (pending.TryPop(out var pid))
        {
            foreach (var child in children.GetValueOrDefault(pid) ?? [])
            {
                if (found.Add(child))
                    pending.Push(child);
            }
        }

        return found;
    }

    /// <summary>True while the process exists and has not exited (a zombie waiting to be reaped has exited).</summary>
    public static bool IsRunning(int pid) => Stat(pid) is { } stat && stat.State != 'Z';

    /// <summary>The command line, for failure messages.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "(gone)";
        }
    }

    /// <summary>Sends <paramref name="signal"/> to every process of the group, as a terminal does on Ctrl-C.</summary>
    public static void SignalGroup(int processGroup, int signal)
    {
        if (Kill(-processGroup, signal) != 0)
            throw new InvalidOperationException($"kill(-{processGroup}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}.");
    }

    /// <summary>Best effort, for clean-up after a failed test: a process that is gone already is not an error.</summary>
    public static void KillQuietly(int pidOrNegativeGroup) => _ = Kill(pidOrNegativeGroup, SigKill);

    public static int ProcessGroupOf(int pid) =>
        Stat(pid)?.ProcessGroup ?? throw new InvalidOperationException($"Process {pid} does not exist.");

    private static IEnumerable<(int Pid, int Parent)> ParentsOfAll()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Stat(pid) is { } stat)
                yield return (pid, stat.Parent);
        }
    }

    // /proc/<pid>/stat is "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses, so fields
    // are counted from its last ')'.
    private static (char State, int Parent, int ProcessGroup)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), int.Parse(fields[2], CultureInfo.InvariantCulture));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
