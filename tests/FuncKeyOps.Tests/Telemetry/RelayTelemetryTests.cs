using System.ClientModel;
using System.Diagnostics;
using FuncKeyOps.Errors;
using FuncKeyOps.Telemetry;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using OpenAI;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Telemetry;

/// <summary>Each relay call is one span and a few GenAI-convention measurements, through the Server host and the OpenAI SDK.</summary>
public class RelayTelemetryTests
{
    [Fact]
    public async Task A_relay_call_is_one_span_with_provider_model_status_and_tokens()
    {
        var (telemetry, host) = await StartAsync();
        await using var _ = host;
        var model = UniqueModel();
        var (key, secret) = await KeyForAsync(host, model);

        await Chat(host, secret, model).CompleteChatAsync([new UserChatMessage("hi")]);

        var row = Assert.Single(await host.RowsAsync(key.Id));
        var span = Assert.Single(telemetry.SpansTagged(RelayTelemetry.RelayKeyId, key.Id));
        Assert.Equal(FuncKeyOpsTelemetry.ServiceName, span.Source.Name);
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal("chat openai", span.DisplayName);
        Assert.Equal("openai", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(model, span.GetTagItem("gen_ai.request.model"));
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal(23L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(5L, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("openai-main", span.GetTagItem(RelayTelemetry.ProviderKeyName));
        Assert.Equal(row.ProviderKeyVersion, span.GetTagItem(RelayTelemetry.ProviderKeyVersion));
        Assert.Equal("tests", span.GetTagItem(RelayTelemetry.Tenant));
        Assert.Equal(row.RequestId, span.GetTagItem(RelayTelemetry.RequestId));
        Assert.Equal(1, span.GetTagItem(RelayTelemetry.Attempts));
        Assert.Null(span.GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task A_failed_call_has_its_error_code_on_the_span_and_in_the_refusals_counter()
    {
        var (telemetry, host) = await StartAsync();
        await using var _ = host;
        var model = UniqueModel();
        var (key, secret) = await KeyForAsync(host, model);
        host.OpenAI.FailNext(500, times: 10);

        var failure = await Assert.ThrowsAsync<ClientResultException>(() => Chat(host, secret, model).CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(502, failure.Status);

        Assert.Single(await host.RowsAsync(key.Id));
        var span = Assert.Single(telemetry.SpansTagged(RelayTelemetry.RelayKeyId, key.Id));
        Assert.Equal(FuncKeyOpsErrors.UpstreamError.Code, span.GetTagItem("error.type"));
        Assert.Equal(502, span.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        var refusal = Assert.Single(telemetry.CollectMetrics(host.Services), m => m.Metric == RelayTelemetry.RefusalsMetric && Model(m.Point) == model);
        Assert.Equal(1, refusal.Point.GetSumLong());
        Assert.Equal(FuncKeyOpsErrors.UpstreamError.Code, TelemetryCapture.Tags(refusal.Point)["error.type"]);
    }

    [Fact]
    public async Task Token_usage_and_duration_are_recorded_per_the_GenAI_conventions()
    {
        var (telemetry, host) = await StartAsync();
        await using var _ = host;
        var model = UniqueModel();
        var (key, secret) = await KeyForAsync(host, model);

        await Chat(host, secret, model).CompleteChatAsync([new UserChatMessage("hi")]);
        await Chat(host, secret, model).CompleteChatAsync([new UserChatMessage("again")]);
        Assert.Equal(2, (await host.RowsAsync(key.Id)).Count);

        var points = telemetry.CollectMetrics(host.Services).Where(m => Model(m.Point) == model).ToList();
        var tokens = points.Where(m => m.Metric == "gen_ai.client.token.usage").ToDictionary(m => (string)TelemetryCapture.Tags(m.Point)["gen_ai.token.type"]!, m => m.Point);
        Assert.Equal(["input", "output"], tokens.Keys.Order());
        Assert.Equal((2L, 46.0), (tokens["input"].GetHistogramCount(), tokens["input"].GetHistogramSum()));
        Assert.Equal((2L, 10.0), (tokens["output"].GetHistogramCount(), tokens["output"].GetHistogramSum()));
        foreach (var point in tokens.Values)
        {
            var tags = TelemetryCapture.Tags(point);
            Assert.Equal("openai", tags["gen_ai.provider.name"]);
            Assert.Equal("chat", tags["gen_ai.operation.name"]);
        }
        var duration = Assert.Single(points, m => m.Metric == "gen_ai.client.operation.duration").Point;
        Assert.Equal(2, duration.GetHistogramCount());
        Assert.True(duration.GetHistogramSum() > 0);
        Assert.False(TelemetryCapture.Tags(duration).ContainsKey("error.type"));
    }

    /// <summary>The Server host with a telemetry capture; the fake OpenAI reports 23 input and 5 output tokens.</summary>
    private static async Task<(TelemetryCapture, RelayHost)> StartAsync()
    {
        var telemetry = new TelemetryCapture();
        var host = await RelayHost.StartAsync(configure: builder => telemetry.AddTo(builder.Services));
        host.OpenAI.Usage = new FakeUsage(23, 5);
        return (telemetry, host);
    }

    // Metrics name a model only within a bounded set: one the relay key's own list allows is in it.
    private static Task<(FuncKeyOps.RelayKeys.RelayKey Key, string Secret)> KeyForAsync(RelayHost host, string model) =>
        host.CreateRelayKeyAsync(new FuncKeyOps.RelayKeys.RelayKeySpec { Tenant = "tests", Name = "otel", Models = [model] });

    private static string UniqueModel() => "gpt-otel-" + Guid.NewGuid().ToString("N")[..12];

    private static string? Model(OpenTelemetry.Metrics.MetricPoint point) =>
        TelemetryCapture.Tags(point).GetValueOrDefault("gen_ai.request.model") as string;

    private static ChatClient Chat(RelayHost host, string relayKey, string model) =>
        new(model, new ApiKeyCredential(relayKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(host.RelayBase("openai"), "v1"),
            RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(maxRetries: 0),
        });
}
