using System.Net;
using System.Net.Http.Json;
using FuncKeyOps.Tests.Anomalies;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The anomaly sweep under the Functions host: the <c>AnomalySweep</c> timer function delegates to the library's run
/// (fired through the host's admin endpoint, as the rotation schedule's test fires its timer), and
/// <c>POST /api/manage/sweeps/run</c> sweeps the open window and stores what it finds (<c>GET findings</c>).
/// </summary>
public class FunctionsSweepTests(FunctionsApp app) : IClassFixture<FunctionsApp>
{
    [FunctionsHostFact]
    public async Task The_timer_function_runs_the_sweep_and_sweeps_run_finds_what_is_in_the_open_window()
    {
        var status = await FunctionsApp.EventuallyAsync(async () =>
        {
            using var fire = new HttpRequestMessage(HttpMethod.Post, "admin/functions/AnomalySweep") { Content = JsonContent.Create(new { input = "" }) };
            fire.Headers.Add("x-functions-key", app.Host.MasterKey);
            using var fired = await app.Client.SendAsync(fire);
            Assert.True(fired.StatusCode == HttpStatusCode.Accepted, $"{(int)fired.StatusCode} {await fired.Content.ReadAsStringAsync()}");
            var sweeps = await app.AdminOkAsync(HttpMethod.Get, "sweeps");
            return sweeps.GetProperty("lastRun").ValueKind == System.Text.Json.JsonValueKind.Object ? (object)sweeps : null;
        }, "a sweep run by the timer function");
        Assert.NotNull(status);

        // All in one window (the one open now), whether it is still open or already closed when the run reads it.
        var window = FuncKeyOps.Anomalies.SweepWindow.Containing(DateTimeOffset.UtcNow);
        await SweepHarness.SeedAsync(await app.TablesAsync(), Times(21, i => FailedAuth(window.Start.AddMilliseconds(i), "198.51.100.77")));
        var run = await app.AdminOkAsync(HttpMethod.Post, "sweeps/run");

        Assert.Equal("swept", run.GetProperty("outcome").GetString());
        Assert.Equal(1, run.GetProperty("findings").GetInt32());
        // Stored by the findings responder, and read back through the Functions app's admin API.
        var found = await app.AdminOkAsync(HttpMethod.Get, "findings?detector=auth_failures&subject=source:198.51.100.77");
        var finding = Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal(("auth_failures", "source:198.51.100.77", "medium"),
            (finding.GetProperty("detector").GetString(), finding.GetProperty("subject").GetString(), finding.GetProperty("severity").GetString()));
    }
}
