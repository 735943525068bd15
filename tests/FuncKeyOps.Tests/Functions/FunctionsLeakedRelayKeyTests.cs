using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Anomalies;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The leaked relay key (<see cref="LeakedRelayKeyScenario"/>) through the Functions host: the <c>AnomalySweep</c>
/// timer function fires every 5 seconds (<c>Anomalies:Schedule</c>, set by the fixture) on the real clock and does all
/// the sweeping; the test never calls <c>sweeps/run</c>. It ends as through the Server host: one finding, the key
/// suspended, one alert, resumed.
/// </summary>
public class FunctionsLeakedRelayKeyTests(FunctionsLeakApp app) : IClassFixture<FunctionsLeakApp>
{
    [FunctionsHostFact]
    public Task The_timer_function_sweeps_a_week_of_baseline_then_suspends_a_key_used_150_times_from_a_new_address_and_resume_restores_it() =>
        LeakedRelayKeyScenario.RunAsync(new FunctionsLeakHost(app));
}

/// <summary>The Functions app with the sweep's timer on a 5-second schedule, a 5-second settle, and the scenario's settings.</summary>
public sealed class FunctionsLeakApp : FunctionsApp
{
    protected override IReadOnlyDictionary<string, string?> MoreSettings
    {
        get
        {
            var settings = LeakedRelayKeyScenario.Settings();
            settings["Anomalies:Schedule"] = "*/5 * * * * *";
            // Rows reach the table within Audit:Linger (50 ms here) of their call: a window is complete well within 5 s.
            settings["Anomalies:SettleDelay"] = "00:00:05";
            return settings;
        }
    }
}

/// <summary>
/// The Functions host as <see cref="ILeakHost"/>. Its clock is the real one, so the week is seeded relative to now and
/// the sweep's checkpoint is set back to the week's start (the timer's first run placed it at now). The host replaces
/// any X-Forwarded-For with its own TCP peer, so a client's address here is the loopback address its socket is bound to.
/// </summary>
internal sealed class FunctionsLeakHost(FunctionsApp app) : ILeakHost
{
    // The burst must land in one window, as a leak's 150 calls within a minute or two do: it starts in a window with
    // at least this much of it left.
    private static readonly TimeSpan BurstRoom = TimeSpan.FromSeconds(60);
    // The catch-up over the week's 2016 windows in one run, bounded generously for a loaded machine.
    private static readonly TimeSpan CatchUp = TimeSpan.FromMinutes(15);

    public Uri RelayBase => app.RelayBase("openai");
    public string AdminKey => FunctionsApp.AdminKey;
    public TestVault Vault => app.Vault;
    public string OfficeSource => "127.0.0.10";
    public string LeakSource => "127.0.0.99";
    public DateTimeOffset Now => DateTimeOffset.UtcNow;

    public HttpMessageHandler From(string source) => new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public Task<TableStore> TablesAsync() => app.TablesAsync();

    public async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = app.AdminRequest(method, path, body);
        using var response = await app.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Up to the window open now, from the start of the same hour a week before: every hour the baseline samples is whole.</summary>
    public LeakWeek Week()
    {
        var end = SweepWindow.Containing(DateTimeOffset.UtcNow).Start;
        var start = end.AddDays(-7);
        return new LeakWeek(start.AddMinutes(-start.Minute), end);
    }

    /// <summary>Sets the checkpoint before the week's first window once no run holds the sweep; the timer's next run catches up from there.</summary>
    public async Task SweepWeekAsync(LeakWeek week)
    {
        var checkpoints = new SweepCheckpointStore(await app.TablesAsync());
        var before = SweepWindow.Containing(week.Start).Previous;
        await FunctionsApp.EventuallyAsync(async () =>
        {
            var now = DateTimeOffset.UtcNow;
            var held = await checkpoints.TryAcquireAsync("leak-test", now, now + TimeSpan.FromMinutes(1), before, CancellationToken.None);
            if (held is null)
                return null;
            return await checkpoints.TryReplaceAsync(held, held with { LastWindow = before, LeaseOwner = null, LeaseUntil = null }, CancellationToken.None);
        }, "the checkpoint set back before the seeded week", CatchUp);
    }

    /// <summary>Waits for the next window when the one open now has too little left for the burst: the real clock decides.</summary>
    public async Task BeforeBurstAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var left = SweepWindow.Containing(now).End - now;
        if (left < BurstRoom)
            await Task.Delay(left + TimeSpan.FromMilliseconds(100));
    }

    /// <summary>
    /// Polls the admin API for the finding (the timer's doing: once the week is caught up and the burst's window has
    /// closed and settled), bounded by the window's end, the settle and the catch-up.
    /// </summary>
    public async Task SweepBurstAsync(SweepWindow window)
    {
        var path = $"findings?detector={Detectors.NewSource}&from={LeakedRelayKeyScenario.Iso(window.Start)}&to={LeakedRelayKeyScenario.Iso(window.End)}";
        var bound = window.End + TimeSpan.FromSeconds(5) + CatchUp - DateTimeOffset.UtcNow;
        await FunctionsApp.EventuallyAsync(async () =>
        {
            var (status, body) = await AdminAsync(HttpMethod.Get, path);
            Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
            return body.GetProperty("items").GetArrayLength() > 0 ? (object)body : null;
        }, "a new_source finding of the burst's window", bound, every: TimeSpan.FromSeconds(2));

        // Swept closed by the timer: the checkpoint reaches the burst's window. Eventually, not at once: a run stores a
        // window's findings before it moves the checkpoint past the window (a crash in between sweeps it again).
        await FunctionsApp.EventuallyAsync(async () =>
        {
            var (swept, sweeps) = await AdminAsync(HttpMethod.Get, "sweeps");
            Assert.True(swept == HttpStatusCode.OK, $"{swept}: {sweeps}");
            return SweepWindow.TryParse(sweeps.GetProperty("checkpoint").GetProperty("id").GetString(), out var checkpoint) && checkpoint.Start >= window.Start
                ? (object)sweeps
                : null;
        }, "the checkpoint at the burst's window", TimeSpan.FromMinutes(2), every: TimeSpan.FromSeconds(1));
    }
}
