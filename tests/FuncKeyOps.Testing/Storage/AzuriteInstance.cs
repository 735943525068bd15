using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FuncKeyOps.Testing.Storage;

/// <summary>
/// One Azurite process on loopback with a temporary data folder (or one the caller owns): the Table service alone
/// (<c>azurite-table</c>, what the library needs), or blob, queue and table (<c>azurite</c>, what a Functions host
/// and Durable need for <c>AzureWebJobsStorage</c>). Can be stopped and started again on the same ports with the
/// same data, for "storage down mid-run" tests.
/// </summary>
public sealed class AzuriteInstance : IAsyncDisposable
{
    // Azurite's published development account; not a secret.
    private const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _executable;
    private readonly string _location;
    private readonly bool _ownsLocation;
    private readonly (int Blob, int Queue)? _blobAndQueue;
    private Process? _process;

    private AzuriteInstance(string executable, int port, string? location, (int Blob, int Queue)? blobAndQueue = null)
    {
        _executable = executable;
        Port = port;
        _blobAndQueue = blobAndQueue;
        _ownsLocation = location is null;
        _location = location ?? Directory.CreateTempSubdirectory("fko-azurite-").FullName;
    }

    /// <summary>The Table service's port.</summary>
    public int Port { get; }

    /// <summary>Table endpoint only: what <c>Storage:ConnectionString</c> takes.</summary>
    public string ConnectionString => ConnectionStringFor(Port);

    /// <summary>
    /// Blob, queue and table endpoints, for <c>AzureWebJobsStorage</c>; only from <see cref="StartAllServicesAsync"/>.
    /// </summary>
    public string AllServicesConnectionString => _blobAndQueue is var (blob, queue)
        ? ConnectionStringFor(Port) + $"BlobEndpoint=http://127.0.0.1:{blob}/{AccountName};QueueEndpoint=http://127.0.0.1:{queue}/{AccountName};"
        : throw new InvalidOperationException("This Azurite serves tables only: start it with StartAllServicesAsync.");

    public static string ConnectionStringFor(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{port}/{AccountName};";

    public static Task<AzuriteInstance> StartAsync(CancellationToken cancellationToken = default) => StartAsync(null, cancellationToken);

    /// <summary>
    /// Serves the data in <paramref name="location"/> (e.g. what another Azurite left there), which stays when
    /// this instance is disposed; null for a temporary folder of its own.
    /// </summary>
    public static async Task<AzuriteInstance> StartAsync(string? location, CancellationToken cancellationToken = default)
    {
        var instance = new AzuriteInstance(FindExecutable(), FreePort(), location);
        await instance.StartAgainAsync(cancellationToken);
        return instance;
    }

    /// <summary>Blob, queue and table services (the <c>azurite</c> command), each on a free port of its own.</summary>
    public static async Task<AzuriteInstance> StartAllServicesAsync(CancellationToken cancellationToken = default)
    {
        var instance = new AzuriteInstance(FindExecutable("azurite"), FreePort(), null, (FreePort(), FreePort()));
        await instance.StartAgainAsync(cancellationToken);
        return instance;
    }

    /// <summary>Starts (or restarts) the process and returns once Azurite says it is listening.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        if (_process is { HasExited: false })
            return;
        var info = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var services = _blobAndQueue is var (blob, queue)
            ? new[] { "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(), "--queueHost", "127.0.0.1", "--queuePort", queue.ToString() }
            : [];
        foreach (var arg in services.Concat(
        [
            "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(),
            "--location", _location, "--skipApiVersionCheck", "--disableTelemetry", "--silent", "--loose",
        ]))
        {
            info.ArgumentList.Add(arg);
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        // The full azurite says "successfully listening" once per service; ready when every one said it.
        var waitingFor = _blobAndQueue is null ? 1 : 3;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("successfully", StringComparison.OrdinalIgnoreCase) == true && Interlocked.Decrement(ref waitingFor) == 0)
                started.TrySetResult();
        };
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrEmpty(e.Data))
                errors.Enqueue(e.Data);
        };
        process.Exited += (_, _) => started.TrySetException(
            new InvalidOperationException("Azurite exited during start-up: " + string.Join(Environment.NewLine, errors)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await started.Task.WaitAsync(timeout.Token);
    }

    /// <summary>
    /// Stops the process the way Ctrl-C would, so Azurite saves its data first (a hard kill can lose the last
    /// seconds of writes); the data folder stays for <see cref="StartAgainAsync"/>.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is not { } process)
            return;
        _process = null;
        if (!process.HasExited)
        {
            _ = Kill(process.Id, SigCont); // a paused process would not act on the interrupt
            _ = Kill(process.Id, SigInt);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        process.Dispose();
    }

    /// <summary>
    /// Freezes the process (SIGSTOP): connections are still accepted by the kernel but nothing is answered, as
    /// when storage hangs rather than refuses. <see cref="Resume"/> lets it carry on.
    /// </summary>
    public void Pause() => Signal(SigStop);

    public void Resume() => Signal(SigCont);

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } process)
            throw new InvalidOperationException("Azurite is not running.");
        if (Kill(process.Id, signal) != 0)
            throw new InvalidOperationException($"Signal {signal} to Azurite failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
    }

    private const int SigInt = 2;
    private const int SigStop = 19;
    private const int SigCont = 18;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (!_ownsLocation)
            return;
        try
        {
            Directory.Delete(_location, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>node_modules/.bin/azurite-table (or azurite) from the repository root (package.json, installed by `npm ci`).</summary>
    private static string FindExecutable(string name = "azurite-table")
    {
        if (name == "azurite-table" && Environment.GetEnvironmentVariable("FKO_AZURITE_TABLE") is { Length: > 0 } configured)
            return configured;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules", ".bin", name);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new InvalidOperationException("Azurite not found: run `npm ci` at the repository root (./build.sh test does).");
    }
}
