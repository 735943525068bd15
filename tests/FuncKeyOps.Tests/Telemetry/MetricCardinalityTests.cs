using System.Net;
using System.Text;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tests.Relay;

namespace FuncKeyOps.Tests.Telemetry;

/// <summary>
/// Client input never becomes a metric dimension: made-up model names, refused or served, leave the relay's metrics
/// with tag values from bounded sets only (a model the relay knows or <c>other</c>, catalogue error codes).
/// </summary>
public class MetricCardinalityTests
{
    [Fact]
    public async Task Sixty_made_up_model_names_add_no_tag_values_to_the_relays_metrics()
    {
        var telemetry = new TelemetryCapture();
        await using var host = await RelayHost.StartAsync(configure: builder => telemetry.AddTo(builder.Services));
        var (_, limited) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "one-model", Models = ["gpt-4o-mini"] });
        var (_, open) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "any-model" });
        var run = Guid.NewGuid().ToString("N")[..10];
        var madeUp = Enumerable.Range(0, 60).Select(i => $"made-up-{run}-{i}").ToList();

        // A key limited to one model: every made-up name refused (403).
        foreach (var model in madeUp)
        {
            using var refused = await ChatAsync(host, limited, model);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        // A key with no list: served, and a model the relay knows in a dated form, also served.
        foreach (var model in madeUp.Take(10).Append("gpt-4o-2024-08-06"))
        {
            using var served = await ChatAsync(host, open, model);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        var metrics = telemetry.CollectMetrics(host.Services);
        var values = metrics.SelectMany(m => TelemetryCapture.Tags(m.Point).Values).Select(v => v?.ToString() ?? "").ToHashSet();
        Assert.DoesNotContain(values, v => v.Contains(run, StringComparison.Ordinal));
        var models = metrics.Where(m => m.Metric == "gen_ai.client.operation.duration")
            .Select(m => TelemetryCapture.Tags(m.Point).GetValueOrDefault("gen_ai.request.model") as string).ToHashSet();
        Assert.Contains("other", models); // the served made-up names, as one value
        Assert.Contains("gpt-4o", models); // a snapshot counts as its model
        Assert.Contains(metrics, m => m.Metric == FuncKeyOps.Telemetry.RelayTelemetry.RefusalsMetric
            && TelemetryCapture.Tags(m.Point).GetValueOrDefault("error.type") as string == "model_not_allowed");
    }

    private static Task<HttpResponseMessage> ChatAsync(RelayHost host, string relayKey, string model)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", relayKey);
        return host.Client.SendAsync(request);
    }
}
