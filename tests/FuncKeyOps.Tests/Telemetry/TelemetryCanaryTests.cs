using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Telemetry;

/// <summary>The canary test of <see cref="RelayCanaryTests"/>, for spans and metrics: no secret and no prompt in any of them.</summary>
public class TelemetryCanaryTests
{
    [Fact]
    public async Task Secrets_and_prompts_never_leave_through_spans_or_metrics()
    {
        var telemetry = new TelemetryCapture();
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:UpstreamTimeout"] = "00:00:00.300" },
            configure: builder => telemetry.AddTo(builder.Services));
        var (key, secret) = await host.CreateRelayKeyAsync();
        var (suspended, suspendedSecret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "s" });
        await host.Services.GetRequiredService<RelayKeyService>().SuspendAsync(suspended.Id);
        var prompt = "prompt-canary-" + Guid.NewGuid().ToString("N");

        async Task Send(HttpMethod method, string path, string? body, Action<HttpRequestHeaders>? auth)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            auth?.Invoke(request.Headers);
            using var response = await host.Client.SendAsync(request);
            await response.Content.ReadAsStringAsync();
        }

        var chat = $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{prompt}}"}]}""";
        Action<HttpRequestHeaders> bearer(string k) => h => h.Authorization = new AuthenticationHeaderValue("Bearer", k);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        await Send(HttpMethod.Post, $"api/relay/openai/v1/chat/completions?key={secret}", chat, bearer(secret));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(suspendedSecret));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret[..^3] + "xyz"));
        await Send(HttpMethod.Post, $"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={secret}",
            $$"""{"contents":[{"parts":[{"text":"{{prompt}}"}]}]}""", null);
        await Send(HttpMethod.Post, "api/relay/anthropic/v1/messages",
            $$"""{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"{{prompt}}"}]}""", h => h.Add("x-api-key", secret));
        await Send(HttpMethod.Post, $"api/relay/openai/v1/{secret}/chat/completions", chat, bearer(secret));
        host.OpenAI.FailNext(500, times: 3);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        host.OpenAI.HangNext();
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        host.OpenAI.ReleaseHangs();
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        Assert.True((await host.RowsAsync(null)).Count >= 10);

        // Every span and every point captured, of this host and of any other running meanwhile.
        var spans = telemetry.Spans;
        Assert.True(telemetry.SpansTagged(FuncKeyOps.Telemetry.RelayTelemetry.RelayKeyId, key.Id).Count >= 7);
        var metrics = telemetry.CollectMetrics(host.Services);
        Assert.Contains(metrics, m => m.Metric == "gen_ai.client.token.usage");
        var text = new StringBuilder();
        foreach (var span in spans)
            Describe(span, text);
        foreach (var (metric, point) in metrics)
        {
            text.Append(metric).Append('\n');
            foreach (var (name, value) in TelemetryCapture.Tags(point))
                text.Append(name).Append('=').Append(value).Append('\n');
        }

        var all = text.ToString();
        Assert.Contains(key.Id, all); // what is allowed is there
        string[] canaries = [secret, secret[^43..], suspendedSecret, .. host.ProviderKeyValues.Values, RelayHost.AdminKey, prompt];
        foreach (var canary in canaries)
            Assert.DoesNotContain(canary, all);
    }

    private static void Describe(Activity span, StringBuilder text)
    {
        text.Append(span.DisplayName).Append('\n').Append(span.OperationName).Append('\n').Append(span.StatusDescription).Append('\n');
        foreach (var (name, value) in span.TagObjects)
            text.Append(name).Append('=').Append(value).Append('\n');
        foreach (var (name, value) in span.Baggage)
            text.Append(name).Append('=').Append(value).Append('\n');
        foreach (var e in span.Events)
        {
            text.Append(e.Name).Append('\n');
            foreach (var (name, value) in e.Tags)
                text.Append(name).Append('=').Append(value).Append('\n');
        }
        foreach (var link in span.Links)
        {
            foreach (var (name, value) in link.Tags ?? [])
                text.Append(name).Append('=').Append(value).Append('\n');
        }
    }
}
