using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;

namespace FuncKeyOps.Testing.Functions;

/// <summary>
/// The Functions app's build output (<c>src/FuncKeyOps.Functions/bin/&lt;Configuration&gt;/net10.0</c>; this part
/// builds nothing) run under a real Functions host on a free loopback port with a master key of its own: the
/// command in <c>FKO_FUNCTIONS_HOST</c> (given the app folder, e.g. <c>../shared/functions-host/run.sh</c>), else
/// Core Tools' <c>func start</c>. App settings go in as environment variables, as <c>local.settings.json</c>'s
/// "Values" do. Everything the host and its worker print is kept for log assertions.
/// </summary>
public sealed class FunctionsHostInstance : IAsyncDisposable
{
    public const string HostVariable = "FKO_FUNCTIONS_HOST";

    private static readonly Lazy<(HostCommand? Command, string? SkipReason)> Found = new(Find);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private readonly bool _isCoreTools;

    private FunctionsHostInstance(Process process, ConcurrentQueue<string> output, int port, string masterKey, bool isCoreTools)
    {
        _isCoreTools = isCoreTools;
        ChecksFunctionKeys = !isCoreTools;
        _process = process;
        _output = output;
        Port = port;
        MasterKey = masterKey;
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
    }

    public int Port { get; }

    /// <summary>The host's master key, which it also takes as a function key (<c>x-functions-key</c>).</summary>
    public string MasterKey { get; }

    public Uri BaseUri { get; }

    /// <summary>
    /// False under Core Tools: `func start` lets Function-level triggers run without a key on a developer's machine,
    /// so the host's 401 can only be seen under a host that checks keys (run.sh, Azure).
    /// </summary>
    public bool ChecksFunctionKeys { get; }

    /// <summary>How long the host took from process start to its first healthy answer.</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>Every line the host and its worker wrote so far (stdout and stderr).</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Null when a host is found; else one sentence saying why the Functions tests cannot run.</summary>
    public static string? SkipReason => Found.Value.SkipReason;

    /// <summary>
    /// Starts the host over the app's build output with <paramref name="settings"/> as app settings and returns once
    /// <c>/api/health</c> answers 200. <paramref name="settings"/> must hold <c>AzureWebJobsStorage</c>
    /// (blob, queue and table: <see cref="Storage.AzuriteInstance.StartAllServicesAsync"/>).
    /// </summary>
    public static async Task<FunctionsHostInstance> StartAsync(IReadOnlyDictionary<string, string> settings, CancellationToken cancellationToken = default)
    {
        var command = Found.Value.Command ?? throw new InvalidOperationException(SkipReason);
        var app = AppFolder();
        var port = FreePort();
        var masterKey = "fko-master-" + RandomNumberGenerator.GetHexString(32, lowercase: true);

        var info = new ProcessStartInfo(command.Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (command.IsCoreTools)
        {
            // Core Tools serves the app in its working folder; the master key is only honoured by run.sh-style hosts.
            info.WorkingDirectory = app;
            foreach (var arg in new[] { "start", "--port", port.ToString(), "--no-build" })
                info.ArgumentList.Add(arg);
        }
        else
        {
            info.ArgumentList.Add(app);
        }
        info.Environment["FUNCTIONS_HOST_PORT"] = port.ToString();
        info.Environment["FUNCTIONS_HOST_MASTER_KEY"] = masterKey;
        info.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        foreach (var (name, value) in settings)
            info.Environment[name] = value;

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var instance = new FunctionsHostInstance(process, output, port, masterKey, command.IsCoreTools);
        try
        {
            await instance.WaitHealthyAsync(cancellationToken);
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
        instance.StartTime = clock.Elapsed;
        return instance;
    }

    /// <summary>Polls the health endpoint (the app's readiness) until 200, the process exits, or 3 minutes pass.</summary>
    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(10) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(3));
        var lastAnswer = "no answer";
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"The Functions host exited ({_process.ExitCode}) before it was healthy:\n{Output}");
            try
            {
                using var response = await client.GetAsync("api/health", deadline.Token);
                // The port was free when chosen, not reserved: another test's server may have taken it before the host
                // bound it (the host then exits), and would answer this poll. Only the host's own line says it is ours (run.sh's
                // host prints it; Core Tools' output is not relied on).
                if (response.StatusCode == HttpStatusCode.OK && (_isCoreTools || Output.Contains($"Now listening on: {BaseUri.GetLeftPart(UriPartial.Authority)}", StringComparison.Ordinal)))
                    return;
                lastAnswer = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(deadline.Token)}";
            }
            catch (HttpRequestException e)
            {
                lastAnswer = e.Message; // not listening yet
            }
            catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
            {
                // One poll ran past the client's timeout: a host still starting on a loaded machine (its first request
                // waits for the worker) is not a failed one. Only the 3-minute deadline decides that.
                lastAnswer = "no answer within " + client.Timeout;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The Functions host was not healthy within 3 minutes (last: {lastAnswer}):\n{Output}");
            }
            try
            {
                // A readiness poll: the interval only spaces the attempts, nothing waits on it for correctness.
                await Task.Delay(TimeSpan.FromMilliseconds(200), deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The Functions host was not healthy within 3 minutes (last: {lastAnswer}):\n{Output}");
            }
        }
    }

    /// <summary>
    /// SIGTERM, as Azure stops an instance: the host stops its worker, which writes the audit rows it holds. Must
    /// run before Azurite stops, or the host's shutdown waits on storage.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        else
        {
            // Output may still be draining after exit.
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private sealed record HostCommand(string Executable, bool IsCoreTools);

    private static (HostCommand?, string?) Find()
    {
        if (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? (new HostCommand(configured, IsCoreTools: false), null)
                : (null, $"{HostVariable}={configured} does not exist");
        }
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (path.Select(dir => Path.Combine(dir, "func")).FirstOrDefault(File.Exists) is { } func)
            return (new HostCommand(func, IsCoreTools: true), null);
        return (null, $"Functions end-to-end tests skipped: no Functions host ({HostVariable} is unset and Azure Functions Core Tools' `func` is not on the PATH)");
    }

    /// <summary>The Functions app's build output for this build's configuration, found from the repository root.</summary>
    private static string AppFolder()
    {
        var configuration = typeof(FunctionsHostInstance).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var project = Path.Combine(dir.FullName, "src", "FuncKeyOps.Functions");
            if (!Directory.Exists(project))
                continue;
            var output = Path.Combine(project, "bin", configuration, "net10.0");
            if (!File.Exists(Path.Combine(output, "functions.metadata")))
                throw new InvalidOperationException($"{output} has no functions.metadata: build the Functions app first (./build.sh functions; ./build.sh test does it).");
            return output;
        }
        throw new InvalidOperationException("src/FuncKeyOps.Functions not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
