using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.RelayKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Relay;

/// <summary>Every way a call can be refused or fail: the right status, the provider's error shape, and an audit row.</summary>
public class RelayErrorTests
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private static HttpRequestMessage OpenAIChat(string? relayKey, string body = ChatBody, string path = "api/relay/openai/v1/chat/completions")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (relayKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        return request;
    }

    /// <summary>Sends, checks status and OpenAI's error shape, and returns our error code.</summary>
    private static async Task<(string Code, HttpResponseMessage Response)> ExpectOpenAIError(RelayHost host, HttpRequestMessage request, HttpStatusCode status)
    {
        var response = await host.Client.SendAsync(request);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        return (error.GetProperty("code").GetString()!, response);
    }

    private static async Task<FuncKeyOps.Audit.AuditRecord> SingleRow(RelayHost host, string? relayKeyId, string errorCode)
    {
        var rows = await host.RowsAsync(relayKeyId);
        return Assert.Single(rows, r => r.ErrorCode == errorCode);
    }

    [Fact]
    public async Task Unknown_provider_is_404_in_OpenAI_shape_and_audited()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync();
        var (code, _) = await ExpectOpenAIError(host, OpenAIChat(secret, path: "api/relay/mistral/v1/chat/completions"), HttpStatusCode.NotFound);
        Assert.Equal("unknown_provider", code);
        var row = await SingleRow(host, null, "unknown_provider");
        // Audited as a fixed name, never as sent: the slot may hold a pasted relay key.
        Assert.Equal(("unknown", 404), (row.Provider, row.Status));
    }

    [Fact]
    public async Task Missing_wrong_suspended_and_revoked_relay_keys_are_401_and_audited()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var service = host.Services.GetRequiredService<RelayKeyService>();

        Assert.Equal("invalid_relay_key", (await ExpectOpenAIError(host, OpenAIChat(null), HttpStatusCode.Unauthorized)).Code);
        var wrong = secret[..^4] + (secret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal("invalid_relay_key", (await ExpectOpenAIError(host, OpenAIChat(wrong), HttpStatusCode.Unauthorized)).Code);
        await service.SuspendAsync(key.Id);
        var (_, suspended) = await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.Unauthorized);
        Assert.Contains("suspended", await suspended.Content.ReadAsStringAsync());
        await service.RevokeAsync(key.Id);
        var (_, revoked) = await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync());

        Assert.Empty(host.OpenAI.Requests);
        var rows = await host.RowsAsync(null);
        Assert.Equal(4, rows.Count(r => r.ErrorCode == "invalid_relay_key" && r.Status == 401));
    }

    [Fact]
    public async Task An_expired_relay_key_is_401()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RelayHost.StartAsync(time: time);
        var (_, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "short", ExpiresAt = time.GetUtcNow().AddMinutes(5) });
        using (var ok = await host.Client.SendAsync(OpenAIChat(secret)))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        time.Advance(TimeSpan.FromMinutes(6));
        var (_, response) = await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.Unauthorized);
        Assert.Contains("expired", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Disallowed_provider_model_and_source_address_are_403_and_audited()
    {
        await using var host = await RelayHost.StartAsync();
        var (onlyAnthropic, anthropicSecret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "a", Providers = ["anthropic"] });
        var (onlyMini, miniSecret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "m", Models = ["gpt-4o-mini"] });
        var (elsewhere, elsewhereSecret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "ip", AllowedIps = ["10.20.0.0/16"] });

        Assert.Equal("provider_not_allowed", (await ExpectOpenAIError(host, OpenAIChat(anthropicSecret), HttpStatusCode.Forbidden)).Code);
        Assert.Equal("model_not_allowed", (await ExpectOpenAIError(host,
            OpenAIChat(miniSecret, """{"model":"gpt-4o","messages":[]}"""), HttpStatusCode.Forbidden)).Code);
        using (var allowed = await host.Client.SendAsync(OpenAIChat(miniSecret)))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("ip_not_allowed", (await ExpectOpenAIError(host, OpenAIChat(elsewhereSecret), HttpStatusCode.Forbidden)).Code);

        Assert.Single(host.OpenAI.Requests);
        Assert.Equal(403, (await SingleRow(host, onlyAnthropic.Id, "provider_not_allowed")).Status);
        Assert.Equal("gpt-4o", (await SingleRow(host, onlyMini.Id, "model_not_allowed")).Model);
        Assert.Equal("127.0.0.1", (await SingleRow(host, elsewhere.Id, "ip_not_allowed")).SourceIp);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_413_and_never_forwarded()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:MaxRequestBodyBytes"] = "1024" });
        var (key, secret) = await host.CreateRelayKeyAsync();
        var big = $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{new string('x', 4096)}}"}]}""";

        Assert.Equal("request_too_large", (await ExpectOpenAIError(host, OpenAIChat(secret, big), HttpStatusCode.RequestEntityTooLarge)).Code);

        // Without Content-Length (chunked), the limit holds while reading.
        var chunked = OpenAIChat(secret, big);
        chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Assert.Equal("request_too_large", (await ExpectOpenAIError(host, chunked, HttpStatusCode.RequestEntityTooLarge)).Code);

        Assert.Empty(host.OpenAI.Requests);
        var rows = await host.RowsAsync(key.Id);
        Assert.Equal(2, rows.Count(r => r.Status == 413));
    }

    [Fact]
    public async Task Exceeding_the_rate_limit_is_429_with_Retry_After()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "slow", Rpm = 2 });
        for (var i = 0; i < 2; i++)
        {
            using var ok = await host.Client.SendAsync(OpenAIChat(secret));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var (code, response) = await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.TooManyRequests);
        Assert.Equal("rpm", code);
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        Assert.Equal(429, (await SingleRow(host, key.Id, "rpm")).Status);
        Assert.Equal(2, host.OpenAI.Requests.Count);
    }

    [Fact]
    public async Task Exceeding_the_daily_token_budget_is_429_until_midnight()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "thrifty", DailyTokens = 10 });
        using (var first = await host.Client.SendAsync(OpenAIChat(secret)))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode); // 18 tokens: over budget from now on

        var (code, response) = await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.TooManyRequests);
        Assert.Equal("daily_tokens", code);
        var untilMidnight = DateTimeOffset.UtcNow.Date.AddDays(1) - DateTimeOffset.UtcNow;
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value, untilMidnight - TimeSpan.FromMinutes(1), untilMidnight + TimeSpan.FromMinutes(1));
        Assert.Equal(429, (await SingleRow(host, key.Id, "daily_tokens")).Status);
    }

    [Fact]
    public async Task Upstream_5xx_after_retries_is_502_and_a_transient_one_is_retried_away()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        host.OpenAI.FailNext(503, times: 1, retryAfter: TimeSpan.Zero);
        using (var retried = await host.Client.SendAsync(OpenAIChat(secret)))
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.Equal(2, host.OpenAI.Requests.Count);

        host.OpenAI.FailNext(500, times: 3);
        Assert.Equal("upstream_error", (await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.BadGateway)).Code);
        Assert.Equal(5, host.OpenAI.Requests.Count);
        Assert.Equal(502, (await SingleRow(host, key.Id, "upstream_error")).Status);
    }

    [Fact]
    public async Task An_upstream_that_drops_connections_is_502()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.DropNext(times: 3);
        Assert.Equal("upstream_unreachable", (await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.BadGateway)).Code);
        Assert.Equal(502, (await SingleRow(host, key.Id, "upstream_unreachable")).Status);
    }

    [Fact]
    public async Task An_upstream_that_does_not_answer_in_time_is_504()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["Relay:UpstreamTimeout"] = "00:00:00.300" });
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.HangNext();
        Assert.Equal("upstream_timeout", (await ExpectOpenAIError(host, OpenAIChat(secret), HttpStatusCode.GatewayTimeout)).Code);
        host.OpenAI.ReleaseHangs();
        Assert.Equal(504, (await SingleRow(host, key.Id, "upstream_timeout")).Status);
    }

    [Theory]
    [InlineData("/api/relay/openai/v1/%2e%2e/%2e%2e/api/admin/relay-keys")]
    [InlineData("/api/relay/openai/v1/../models")]
    [InlineData("/api/relay/openai/v1%2Fchat%2Fcompletions")]
    [InlineData("/api/relay/openai/v1/%5c..%5cadmin")]
    public async Task Path_escapes_are_refused_and_audited(string target)
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync();
        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", target,
            new Dictionary<string, string> { ["Authorization"] = "Bearer " + secret, ["Content-Type"] = "application/json" }, ChatBody);
        Assert.Equal(400, status);
        Assert.Contains("\"code\":\"invalid_path\"", response);
        Assert.Empty(host.OpenAI.Requests);
        // Refused before the key is even looked at: nothing about the call is trusted.
        Assert.Equal(400, (await SingleRow(host, null, "invalid_path")).Status);
    }

    [Fact]
    public async Task Errors_come_in_each_providers_own_shape()
    {
        await using var host = await RelayHost.StartAsync();
        await ProviderErrorShapes.AssertEachProvidersShapeAsync(host.Client);
    }
}
