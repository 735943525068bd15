using System.Net;
using System.Text.Json;
using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>The sweep in the real Server host: on its Cronos schedule (a fake clock drives it), and through the admin API.</summary>
public class SweepServerTests
{
    private static readonly SweepWindow W0 = SweepHarness.FirstWindow;

    [Fact]
    public async Task The_Server_host_sweeps_on_its_schedule_and_answers_sweeps_run_and_sweeps()
    {
        var time = new FakeTimeProvider(SweepHarness.Start);
        var responder = new RecordingResponder();
        var adminKey = "fake-admin-" + Guid.NewGuid().ToString("N");
        var vault = await TestVault.StartAsync();
        vault.SetSecretDirect("fko-admin-key", adminKey);
        await using var host = await ServerHost.StartAsync(vault: vault, time: time, settings: new Dictionary<string, string?> { ["Anomalies:Schedule"] = "0 */5 * * * *" },
            configure: builder => builder.Services.AddSingleton<IFindingResponder>(responder));
        var schedule = host.App.Services.GetServices<IHostedService>().OfType<SweepScheduleService>().Single();
        await SweepHarness.SeedAsync(host.App.Services.GetRequiredService<TableStore>(),
            Times(21, i => FailedAuth(In(W0.Start, i), "203.0.113.66")));

        // 10:05, the first occurrence: places the checkpoint; 10:10: the 10:00 window is closed and swept.
        Assert.Equal(W0.End, schedule.NextRun);
        var first = await RunScheduledAsync(schedule, time);
        Assert.Equal(W0.End + SweepWindow.Length, schedule.NextRun);
        var second = await RunScheduledAsync(schedule, time);

        Assert.Equal((SweepRunOutcome.Swept, 0), (first.Outcome, first.Windows.Count));
        Assert.Equal([(W0, true)], second.Windows.Select(w => (w.Window, w.Closed)));
        var finding = Assert.Single(responder.Findings);
        Assert.Equal((Detectors.AuthFailures, "source:203.0.113.66", W0.Start), (finding.Detector, finding.Subject, finding.WindowStart));

        // Now: the windows not yet closed (10:05, ending a minute ago, and 10:10), the checkpoint left at 10:00.
        using (var run = await SendAsync(host, adminKey, HttpMethod.Post, "api/admin/sweeps/run"))
        {
            Assert.Equal(HttpStatusCode.OK, run.Status);
            var body = run.Body.RootElement;
            Assert.Equal("swept", body.GetProperty("outcome").GetString());
            Assert.Equal([("202603101005", false), ("202603101010", false)],
                body.GetProperty("windows").EnumerateArray().Select(w => (w.GetProperty("id").GetString(), w.GetProperty("closed").GetBoolean())));
            Assert.Equal("202603101000", body.GetProperty("checkpoint").GetProperty("id").GetString());
        }
        using (var status = await SendAsync(host, adminKey, HttpMethod.Get, "api/admin/sweeps"))
        {
            Assert.Equal(HttpStatusCode.OK, status.Status);
            var body = status.Body.RootElement;
            Assert.Equal("202603101000", body.GetProperty("checkpoint").GetProperty("id").GetString());
            Assert.Equal(300, body.GetProperty("lagSeconds").GetDouble()); // 10:10 less the window's end
            Assert.Equal(2, body.GetProperty("lastRun").GetProperty("windows").GetInt32());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("lease").ValueKind);
        }

        // Another instance sweeping: 409 with the wait.
        var now = time.GetUtcNow();
        Assert.NotNull(await host.App.Services.GetRequiredService<SweepCheckpointStore>()
            .TryAcquireAsync("other-instance", now, now + TimeSpan.FromMinutes(2), W0, CancellationToken.None));
        using (var held = await SendAsync(host, adminKey, HttpMethod.Post, "api/admin/sweeps/run"))
        {
            Assert.Equal(HttpStatusCode.Conflict, held.Status);
            Assert.Equal("conflict", held.Body.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal(TimeSpan.FromMinutes(2), held.RetryAfter);
        }
        using (var status = await SendAsync(host, adminKey, HttpMethod.Get, "api/admin/sweeps"))
            Assert.Equal("other-instance", status.Body.RootElement.GetProperty("lease").GetProperty("holder").GetString());
    }

    private static async Task<SweepRunResult> RunScheduledAsync(SweepScheduleService schedule, FakeTimeProvider time)
    {
        var ran = schedule.NextRunCompleted;
        time.Advance(schedule.NextRun!.Value - time.GetUtcNow());
        return await ran.WaitAsync(TimeSpan.FromSeconds(60));
    }

    private sealed record Answer(HttpStatusCode Status, JsonDocument Body, TimeSpan? RetryAfter) : IDisposable
    {
        public void Dispose() => Body.Dispose();
    }

    private static async Task<Answer> SendAsync(ServerHost host, string adminKey, HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add(AdminAuth.HeaderName, adminKey);
        using var response = await host.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new Answer(response.StatusCode, JsonDocument.Parse(text), response.Headers.RetryAfter?.Delta);
    }
}
