using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The leaked relay key (<see cref="LeakedRelayKeyScenario"/>) through the Server host on a fake clock: its own
/// schedule sweeps the seeded week in one catch-up run, and <c>POST sweeps/run</c> judges the burst in the open window.
/// The host sits behind a front proxy it trusts (<c>Relay:TrustedProxies</c>), as a deployment behind a load balancer
/// does: the test is that proxy and names each client's address in <c>X-Forwarded-For</c>.
/// </summary>
public class LeakedRelayKeyServerTests
{
    [Fact]
    public async Task A_week_of_baseline_then_150_calls_from_a_new_address_suspend_the_key_with_one_finding_and_one_alert_and_resume_restores_it()
    {
        var time = new FakeTimeProvider(ServerLeakHost.Start);
        var settings = LeakedRelayKeyScenario.Settings();
        settings["Relay:TrustedProxies:0"] = "127.0.0.1";
        settings["Anomalies:Schedule"] = "0 */5 * * * *";
        // The daily rotation schedule would run as the clock jumps a week; nothing here is about it.
        settings["Rotation:Schedule"] = "0 0 0 1 1 *";
        await using var relay = await RelayHost.StartAsync(settings: settings, time: time);

        await LeakedRelayKeyScenario.RunAsync(new ServerLeakHost(relay, time));
    }
}

/// <summary>The Server host as <see cref="ILeakHost"/>: a fake clock the test moves, the host's schedule and admin API.</summary>
internal sealed class ServerLeakHost(RelayHost relay, FakeTimeProvider time) : ILeakHost
{
    /// <summary>A Tuesday, 10:02:30 UTC: the seeded week runs from 10:00 to 10:00 a week later, where the burst lands.</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 3, 10, 2, 30, TimeSpan.Zero);

    public Uri RelayBase => relay.RelayBase("openai");
    public string AdminKey => RelayHost.AdminKey;
    public TestVault Vault => relay.Server.Vault;
    public string OfficeSource => "198.51.100.10";
    public string LeakSource => "203.0.113.99";
    public DateTimeOffset Now => time.GetUtcNow();

    public HttpMessageHandler From(string source) => new ForwardedFor(source);

    public Task<TableStore> TablesAsync() => Task.FromResult(relay.Services.GetRequiredService<TableStore>());

    public async Task<(HttpStatusCode Status, JsonElement Body)> AdminAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, "api/admin/" + path);
        request.Headers.Add(AdminAuth.HeaderName, RelayHost.AdminKey);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        using var response = await relay.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public LeakWeek Week()
    {
        var start = SweepWindow.Containing(Start).Start;
        return new LeakWeek(start, start.AddDays(7));
    }

    /// <summary>
    /// The schedule's first occurrence (10:05) places the checkpoint before the week's first window, as a sweep deployed
    /// with the key does; then the clock jumps to the week's end and the next occurrence catches the week up in one run.
    /// </summary>
    public async Task SweepWeekAsync(LeakWeek week)
    {
        var schedule = relay.Services.GetServices<IHostedService>().OfType<SweepScheduleService>().Single();
        var placed = await RunScheduledAsync(schedule, schedule.NextRun!.Value);
        Assert.Equal((SweepRunOutcome.Swept, 0, SweepWindow.Containing(week.Start).Previous), (placed.Outcome, placed.Windows.Count, placed.Checkpoint));

        var caughtUp = await RunScheduledAsync(schedule, week.End + (Start - week.Start));
        var windows = (int)((week.End - week.Start) / SweepWindow.Length);
        Assert.Equal((SweepRunOutcome.Swept, windows, 0, SweepWindow.Containing(week.End).Previous),
            (caughtUp.Outcome, caughtUp.Windows.Count, caughtUp.Findings, caughtUp.Checkpoint));
        Assert.Empty(caughtUp.Warnings);
    }

    public Task BeforeBurstAsync() => Task.CompletedTask;

    public async Task SweepBurstAsync(SweepWindow window)
    {
        await relay.Server.WaitIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await relay.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);
        var (status, run) = await AdminAsync(HttpMethod.Post, "sweeps/run");
        Assert.True(status == HttpStatusCode.OK, $"{status}: {run}");
        Assert.Equal(("swept", 1), (run.GetProperty("outcome").GetString(), run.GetProperty("findings").GetInt32()));
        Assert.Equal([(window.Id, false, LeakedRelayKeyScenario.BurstCalls + LeakedRelayKeyScenario.OfficeCallsInBurst)],
            run.GetProperty("windows").EnumerateArray().Select(w => (w.GetProperty("id").GetString(), w.GetProperty("closed").GetBoolean(), w.GetProperty("rows").GetInt32())));
    }

    /// <summary>Moves the clock to <paramref name="to"/> (at or past the schedule's next occurrence) and waits for that run.</summary>
    private async Task<SweepRunResult> RunScheduledAsync(SweepScheduleService schedule, DateTimeOffset to)
    {
        Assert.True(to >= schedule.NextRun, $"{to:O} is before the next occurrence {schedule.NextRun:O}");
        var ran = schedule.NextRunCompleted;
        time.Advance(to - time.GetUtcNow());
        // A week of windows in one run (about 4 minutes alone, 8 beside the Functions host's on this 2-core machine):
        // bounded generously for a loaded machine, awaited on the run itself.
        return await ran.WaitAsync(TimeSpan.FromMinutes(20));
    }

    /// <summary>The front proxy: names the client's address in X-Forwarded-For, as the proxy the host trusts would.</summary>
    private sealed class ForwardedFor(string source) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add("X-Forwarded-For", source);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
