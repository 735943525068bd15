using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using FuncKeyOps.Audit;
using FuncKeyOps.Relay;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Functions;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Functions;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.Operators;

/// <summary>
/// <c>./build.sh dev</c> run as an operator runs it, stopped as a terminal stops it: SIGINT to its whole process
/// group. Dev starts its own Azurite, test vault, fake providers and Server host here, so each run takes a while;
/// the tests of this class run one after the other.
/// </summary>
public sealed partial class DevScriptTests
{
    // The acceptance bound for Ctrl-C, measured from the interrupt to the script's exit.
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(5);

    // Under the Functions host the bound guards what stopping Azurite first costs: the host's shutdown waits on storage
    // for about 40 s. The host and its worker are two .NET processes to stop, which took 7.9 s on a CI-like machine
    // loaded about 30 runnable threads per core (a fresh-clone run beside four builds); so the bound sits well clear of
    // that and well under the 40 s it tells apart.
    private static readonly TimeSpan FunctionsStopBound = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Dev's Azurite keeps its data in a folder the test owns (<c>FKO_DEV_AZURITE_LOCATION</c>), so the rows can
    /// be read after dev has stopped everything. A long <c>Audit:Linger</c> keeps the rows in the Server's buffer
    /// until its shutdown writes them: they are stored only if the Server stops while Azurite still runs.
    /// </summary>
    [Fact]
    public async Task Ctrl_C_stops_the_Server_before_Azurite_within_5_s_and_every_audit_row_is_stored()
    {
        var data = Directory.CreateTempSubdirectory("fko-dev-data-");
        try
        {
            var port = FreePort();
            List<string> requestIds;
            string relayKey;
            await using (var dev = DevScript.Start(port, new Dictionary<string, string?>
            {
                ["FKO_DEV_AZURITE_LOCATION"] = data.FullName,
                ["Audit__Linger"] = "00:01:00",
            }))
            {
                relayKey = await dev.WaitForLineAsync("FKO_RELAY_KEY=");
                await dev.WaitForLineAsync("Ctrl-C stops everything.");
                var started = dev.RecordStartedProcesses();
                requestIds = await RelayCallsAsync(port, relayKey);

                var stopping = Stopwatch.StartNew();
                dev.InterruptGroup();
                await dev.Exited.WaitAsync(DevScript.ExitPatience);
                stopping.Stop();

                Assert.True(stopping.Elapsed < StopBound, $"Ctrl-C took {stopping.Elapsed.TotalSeconds:F1} s. Output:\n{dev.Tail()}");
                AssertNoneRunning(started);
            }

            await using var azurite = await AzuriteInstance.StartAsync(data.FullName);
            var tables = await TestTables.CreateAsync(prefix: "", connectionString: azurite.ConnectionString);
            Assert.True(RelayKeyFormat.TryParse(relayKey, out var keyId, out _));
            var now = DateTimeOffset.UtcNow;
            var rows = await new AuditQuery(tables).QueryAsync(now.AddHours(-1), now.AddMinutes(5), keyId, AuditQuery.MaxLimit);

            Assert.Equal(requestIds.Order(), rows.Select(row => row.RequestId).Order());
            Assert.All(rows, row => Assert.Equal(200, row.Status));
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Ctrl_C_leaves_no_process_running_and_removes_the_temporary_Azurite_folder()
    {
        await using var dev = DevScript.Start(FreePort());
        var azuriteLine = await dev.WaitForLineAsync("  Azurite (Table Storage)");
        await dev.WaitForLineAsync("Ctrl-C stops everything.");
        var started = dev.RecordStartedProcesses();
        var folder = DataFolder().Match(azuriteLine) is { Success: true } match
            ? match.Groups["path"].Value
            : throw new InvalidOperationException("dev does not say where Azurite keeps its data: " + azuriteLine);
        Assert.True(Directory.Exists(folder), folder);
        Assert.Contains(started, pid => ProcessTree.CommandLine(pid).Contains("azurite-table", StringComparison.Ordinal));
        Assert.Contains(started, pid => ProcessTree.CommandLine(pid).Contains("FuncKeyOps.Server.dll", StringComparison.Ordinal));
        Assert.Contains(started, pid => ProcessTree.CommandLine(pid).Contains("FuncKeyOps.Testing.dll serve", StringComparison.Ordinal));

        var stopping = Stopwatch.StartNew();
        dev.InterruptGroup();
        await dev.Exited.WaitAsync(DevScript.ExitPatience);
        stopping.Stop();

        Assert.True(stopping.Elapsed < StopBound, $"Ctrl-C took {stopping.Elapsed.TotalSeconds:F1} s. Output:\n{dev.Tail()}");
        AssertNoneRunning(started);
        Assert.False(Directory.Exists(folder), $"{folder} is still there");
    }

    [Fact]
    public async Task A_second_dev_on_a_port_in_use_says_so_in_one_line_and_starts_nothing()
    {
        using var other = new TcpListener(IPAddress.Loopback, 0);
        other.Start();
        var port = ((IPEndPoint)other.LocalEndpoint).Port;
        var temp = Directory.CreateTempSubdirectory("fko-dev-tmp-");
        try
        {
            await using var dev = DevScript.Start(port, new Dictionary<string, string?> { ["TMPDIR"] = temp.FullName });

            // Well inside the patience, as it must answer before building or starting anything.
            var exitCode = await dev.WaitForExitAndOutputAsync(TimeSpan.FromSeconds(30));

            Assert.NotEqual(0, exitCode);
            var line = Assert.Single(dev.Output);
            Assert.Contains($"port {port} is in use", line, StringComparison.Ordinal);
            Assert.Empty(temp.EnumerateFileSystemInfos()); // no Azurite data folder: nothing was started
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    /// <summary>
    /// <c>./build.sh dev --functions</c> under the host <c>FKO_FUNCTIONS_HOST</c> names (<c>./build.sh test</c> sets it
    /// when <c>../shared/functions-host</c> is there): the printed keys work through the host, the admin API only with
    /// both the function key and the admin key, and Ctrl-C stops the host before Azurite (else its shutdown waits on
    /// storage for about 40 s), within the same bound, leaving nothing running.
    /// </summary>
    [FunctionsHostFact]
    public async Task Functions_dev_serves_relay_and_admin_with_the_printed_keys_and_Ctrl_C_stops_the_host_before_Azurite()
    {
        var host = Environment.GetEnvironmentVariable(FunctionsHostInstance.HostVariable);
        var port = FreePort();
        await using var dev = DevScript.Start(port, new Dictionary<string, string?> { [FunctionsHostInstance.HostVariable] = host }, "--functions");
        var functionKey = await dev.WaitForLineAsync("FKO_FUNCTION_KEY=");
        var adminKey = await dev.WaitForLineAsync("FKO_ADMIN_KEY=");
        var relayKey = await dev.WaitForLineAsync("FKO_RELAY_KEY=");
        await dev.WaitForLineAsync("Ctrl-C stops everything.");
        var started = dev.RecordStartedProcesses();
        Assert.Contains(started, pid => ProcessTree.CommandLine(pid).Contains("FuncKeyOps.Functions.dll", StringComparison.Ordinal));
        Assert.Contains(started, pid => ProcessTree.CommandLine(pid).Contains("--queuePort", StringComparison.Ordinal));

        await RelayCallsAsync(port, relayKey);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/manage/"), Timeout = TimeSpan.FromSeconds(60) };
        async Task<HttpStatusCode> ListRelayKeys(string? function, string? admin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "relay-keys");
            if (function is not null)
                request.Headers.Add("x-functions-key", function);
            if (admin is not null)
                request.Headers.Add("x-fko-admin-key", admin);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await ListRelayKeys(null, adminKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await ListRelayKeys(functionKey, null));
        Assert.Equal(HttpStatusCode.OK, await ListRelayKeys(functionKey, adminKey));

        var stopping = Stopwatch.StartNew();
        dev.InterruptGroup();
        await dev.Exited.WaitAsync(DevScript.ExitPatience);
        stopping.Stop();

        Assert.True(stopping.Elapsed < FunctionsStopBound, $"Ctrl-C took {stopping.Elapsed.TotalSeconds:F1} s. Output:\n{dev.Tail()}");
        AssertNoneRunning(dev.RecordStartedProcesses());
    }

    /// <summary>One call per provider (<see cref="RelayCalls"/>), each in the provider's own format; returns the relay's request ids.</summary>
    private static async Task<List<string>> RelayCallsAsync(int port, string relayKey)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/relay/"), Timeout = TimeSpan.FromSeconds(60) };
        var ids = new List<string>();
        foreach (var call in RelayCalls)
        {
            using var response = await SendRelayCallAsync(http, call, relayKey);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{call.Path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            ids.Add(response.Headers.GetValues(RelayHandler.RequestIdHeader).Single());
        }

        return ids;
    }

    private static void AssertNoneRunning(IReadOnlySet<int> started)
    {
        Assert.NotEmpty(started);
        var running = started.Where(ProcessTree.IsRunning).Select(pid => $"{pid} {ProcessTree.CommandLine(pid)}").ToList();
        Assert.True(running.Count == 0, "still running: " + string.Join("; ", running));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"\(data: (?<path>[^,)]+)")]
    private static partial Regex DataFolder();
}
