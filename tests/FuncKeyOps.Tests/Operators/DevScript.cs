using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;

namespace FuncKeyOps.Tests.Operators;

/// <summary>
/// <c>./build.sh dev</c> as a terminal runs it: the script leads a process group of its own (<c>setsid</c>), so
/// <see cref="InterruptGroup"/> is exactly what Ctrl-C does. It never builds (<c>FKO_DEV_NO_BUILD=1</c>): the test
/// run has built the Server host and the test parts already, in the configuration of this test assembly.
/// </summary>
internal sealed class DevScript : IAsyncDisposable
{
    // Caps on what a broken script can cost a test run; never what a passing test waits for.
    public static readonly TimeSpan StartPatience = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan ExitPatience = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<int> _started = [];
    private readonly int _port;

    private DevScript(Process process, int port)
    {
        _process = process;
        _port = port;
    }

    public int Pid => _process.Id;

    /// <summary>Every line the script and its children printed so far, stdout and stderr interleaved.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>The last lines of <see cref="Output"/>, for failure messages.</summary>
    public string Tail(int lines = 40) => string.Join('\n', _output.TakeLast(lines));

    /// <summary>Completes with the exit code when the script has exited.</summary>
    public Task<int> Exited => _exited.Task;

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && File.Exists(Path.Combine(dir.FullName, "dev.slnf")))
                    return dir.FullName;
            }

            throw new InvalidOperationException("build.sh not found above " + AppContext.BaseDirectory);
        }
    }

    public static DevScript Start(int port, IDictionary<string, string?>? environment = null, params string[] arguments)
    {
        // A terminal's shell starts the script with SIGINT at its default; a test run started in the background
        // may pass it on ignored, and a shell cannot trap a signal ignored on entry, so it is reset first.
        var info = new ProcessStartInfo("env")
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--default-signal=INT", "setsid", "--wait", "bash", "build.sh", "dev" }.Concat(arguments))
            info.ArgumentList.Add(arg);

        // Whatever the test run's environment points at, dev must start its own storage and vault here.
        foreach (var inherited in new[] { "Storage__ConnectionString", "Storage__TableEndpoint", "Storage__TablePrefix", "KeyVault__Uri", "FKO_ADMIN_KEY", "ASPNETCORE_URLS" })
            info.Environment.Remove(inherited);
        info.Environment["FKO_DEV_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["FKO_DEV_NO_BUILD"] = "1";
        info.Environment["CONFIGURATION"] = typeof(DevScript).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            info.Environment[name] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var script = new DevScript(process, port);
        process.OutputDataReceived += (_, e) => script.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => script.OnLine(e.Data);
        process.Exited += (_, _) => script._exited.TrySetResult(process.ExitCode);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return script;
    }

    /// <summary>Reads the output until a line starts with <paramref name="prefix"/>; returns the rest of that line.</summary>
    public async Task<string> WaitForLineAsync(string prefix)
    {
        using var patience = new CancellationTokenSource(StartPatience);
        try
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(patience.Token))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                    return line[prefix.Length..];
            }
        }
        catch (OperationCanceledException)
        {
        }

        throw new InvalidOperationException($"build.sh dev printed no '{prefix}' line. Output:\n{Tail()}");
    }

    /// <summary>Waits for the exit and for the end of both output streams, so <see cref="Output"/> is complete.</summary>
    public async Task<int> WaitForExitAndOutputAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>Notes every process the script has started so far (they may have left its process group).</summary>
    public IReadOnlySet<int> RecordStartedProcesses()
    {
        _started.UnionWith(ProcessTree.Descendants(Pid));
        return _started;
    }

    /// <summary>Ctrl-C: SIGINT to the script's whole process group.</summary>
    public void InterruptGroup()
    {
        // setsid only forks when its caller leads a group; the test host's child never does, so the script kept
        // its pid and leads its own group.
        if (ProcessTree.ProcessGroupOf(Pid) != Pid)
            throw new InvalidOperationException("build.sh dev does not lead a process group of its own.");
        ProcessTree.SignalGroup(Pid, ProcessTree.SigInt);
    }

    public async ValueTask DisposeAsync()
    {
        // Only after a failure, or a test that ends without Ctrl-C, is anything left: kill what the script started,
        // by pid (the Functions host and Azurite may have left its group), and the script's group.
        if (!_process.HasExited)
        {
            RecordStartedProcesses();
            ProcessTree.KillQuietly(-Pid);
        }
        foreach (var pid in _started.Where(ProcessTree.IsRunning))
            ProcessTree.KillQuietly(pid);
        await _exited.Task.WaitAsync(ExitPatience);
        _process.Dispose();

        // Dev keeps its logs per port; these ports were the test's, so are the logs.
        var logs = new DirectoryInfo(Path.Combine(RepositoryRoot, ".artifacts", $"dev-{_port}"));
        if (logs.Exists)
            logs.Delete(recursive: true);
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        _lines.Writer.TryWrite(line);
    }
}
