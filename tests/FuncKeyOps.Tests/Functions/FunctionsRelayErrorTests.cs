using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.Tests.Relay;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The relay's refusals and upstream failures under the Functions host, as <see cref="RelayErrorTests"/> checks
/// them under the Server host: the status, the provider's own error shape, and the audit row in Azurite.
/// </summary>
public class FunctionsRelayErrorTests(FunctionsApp app) : IClassFixture<FunctionsApp>
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
    private async Task<(string Code, HttpResponseMessage Response)> ExpectOpenAIError(HttpRequestMessage request, HttpStatusCode status)
    {
        var response = await app.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        return (error.GetProperty("code").GetString()!, response);
    }

    private Task<IReadOnlyList<AuditRecord>> RowsWith(string? relayKeyId, string errorCode, int count = 1) =>
        app.RowsAsync(relayKeyId, rows => rows.Count(r => r.ErrorCode == errorCode) >= count);

    [FunctionsHostFact]
    public async Task Unknown_provider_is_404_in_OpenAI_shape_and_audited_as_unknown()
    {
        var (_, secret) = await app.CreateRelayKeyAsync();
        var before = DateTimeOffset.UtcNow;
        Assert.Equal("unknown_provider", (await ExpectOpenAIError(OpenAIChat(secret, path: "api/relay/mistral/v1/chat/completions"), HttpStatusCode.NotFound)).Code);
        var rows = await app.RowsAsync(null, rows => rows.Any(r => r.ErrorCode == "unknown_provider" && r.Time >= before.AddSeconds(-1)));
        var row = rows.Last(r => r.ErrorCode == "unknown_provider");
        Assert.Equal(("unknown", 404), (row.Provider, row.Status));
    }

    [FunctionsHostFact]
    public async Task Missing_wrong_suspended_and_revoked_relay_keys_are_401_and_audited()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        var forwarded = app.OpenAI.Requests.Count;

        Assert.Equal("invalid_relay_key", (await ExpectOpenAIError(OpenAIChat(null), HttpStatusCode.Unauthorized)).Code);
        var wrong = secret[..^4] + (secret.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.Equal("invalid_relay_key", (await ExpectOpenAIError(OpenAIChat(wrong), HttpStatusCode.Unauthorized)).Code);
        await app.AdminOkAsync(HttpMethod.Post, $"relay-keys/{id}/suspend");
        var (_, suspended) = await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.Unauthorized);
        Assert.Contains("suspended", await suspended.Content.ReadAsStringAsync());
        await app.AdminOkAsync(HttpMethod.Delete, $"relay-keys/{id}");
        var (_, revoked) = await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync());

        Assert.Equal(forwarded, app.OpenAI.Requests.Count);
        // The wrong secret, the suspended and the revoked key name the key they were tried against.
        await RowsWith(id, "invalid_relay_key", count: 3);
    }

    [FunctionsHostFact]
    public async Task Disallowed_provider_model_and_source_address_are_403_and_audited()
    {
        var (onlyAnthropic, anthropicSecret) = await app.CreateRelayKeyAsync(new { tenant = "t", name = "a", providers = new[] { "anthropic" } });
        var (onlyMini, miniSecret) = await app.CreateRelayKeyAsync(new { tenant = "t", name = "m", models = new[] { "gpt-4o-mini" } });
        var (elsewhere, elsewhereSecret) = await app.CreateRelayKeyAsync(new { tenant = "t", name = "ip", allowedIps = new[] { "10.20.0.0/16" } });

        Assert.Equal("provider_not_allowed", (await ExpectOpenAIError(OpenAIChat(anthropicSecret), HttpStatusCode.Forbidden)).Code);
        Assert.Equal("model_not_allowed", (await ExpectOpenAIError(OpenAIChat(miniSecret, """{"model":"gpt-4o","messages":[]}"""), HttpStatusCode.Forbidden)).Code);
        using (var allowed = await app.Client.SendAsync(OpenAIChat(miniSecret)))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("ip_not_allowed", (await ExpectOpenAIError(OpenAIChat(elsewhereSecret), HttpStatusCode.Forbidden)).Code);

        Assert.Equal(403, Assert.Single(await RowsWith(onlyAnthropic, "provider_not_allowed")).Status);
        Assert.Equal("gpt-4o", (await RowsWith(onlyMini, "model_not_allowed")).Single(r => r.ErrorCode == "model_not_allowed").Model);
        Assert.Equal("127.0.0.1", Assert.Single(await RowsWith(elsewhere, "ip_not_allowed")).SourceIp);
    }

    [FunctionsHostFact]
    public async Task A_body_over_the_limit_is_413_and_never_forwarded()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        var forwarded = app.OpenAI.Requests.Count;
        var big = $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{new string('x', FunctionsApp.MaxRequestBodyBytes * 2)}}"}]}""";

        Assert.Equal("request_too_large", (await ExpectOpenAIError(OpenAIChat(secret, big), HttpStatusCode.RequestEntityTooLarge)).Code);
        var chunked = OpenAIChat(secret, big);
        chunked.Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Assert.Equal("request_too_large", (await ExpectOpenAIError(chunked, HttpStatusCode.RequestEntityTooLarge)).Code);

        Assert.Equal(forwarded, app.OpenAI.Requests.Count);
        await RowsWith(id, "request_too_large", count: 2);
    }

    [FunctionsHostFact]
    public async Task Exceeding_the_rate_limit_is_429_with_Retry_After()
    {
        var (id, secret) = await app.CreateRelayKeyAsync(new { tenant = "t", name = "slow", rpm = 2 });
        for (var i = 0; i < 2; i++)
        {
            using var ok = await app.Client.SendAsync(OpenAIChat(secret));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var (code, response) = await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.TooManyRequests);
        Assert.Equal("rpm", code);
        Assert.InRange(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        await RowsWith(id, "rpm");
    }

    [FunctionsHostFact]
    public async Task Upstream_5xx_after_retries_is_502_a_transient_one_is_retried_away_and_dropped_connections_are_502()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();

        app.OpenAI.FailNext(503, times: 1, retryAfter: TimeSpan.Zero);
        using (var retried = await app.Client.SendAsync(OpenAIChat(secret)))
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        app.OpenAI.FailNext(500, times: 3);
        Assert.Equal("upstream_error", (await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.BadGateway)).Code);
        app.OpenAI.DropNext(times: 3);
        Assert.Equal("upstream_unreachable", (await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.BadGateway)).Code);

        Assert.Equal(0, app.OpenAI.PendingFaults);
        var rows = await app.RowsAsync(id, rows => rows.Count == 3);
        Assert.Equal([200, 502, 502], rows.Select(r => r.Status).Order());
    }

    [FunctionsHostFact]
    public async Task A_provider_refusing_the_relays_provider_key_is_502_provider_key_rejected()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        app.OpenAI.RevokeKey(app.ProviderKeyValues["openai"]);
        try
        {
            Assert.Equal("provider_key_rejected", (await ExpectOpenAIError(OpenAIChat(secret), HttpStatusCode.BadGateway)).Code);
        }
        finally
        {
            app.OpenAI.AcceptKey(app.ProviderKeyValues["openai"]);
        }
        Assert.Equal(401, Assert.Single(await RowsWith(id, "provider_key_rejected")).UpstreamStatus);
    }

    /// <summary>The class's other tests call Azure OpenAI only without a relay key (401 comes first), so its key may go.</summary>
    [FunctionsHostFact]
    public async Task A_provider_without_a_registered_key_is_503_no_provider_key_in_its_shape()
    {
        var (id, secret) = await app.CreateRelayKeyAsync();
        await app.AdminOkAsync(HttpMethod.Delete, "provider-keys/azure-openai-main");
        var forwarded = app.Azure.Requests.Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/azure-openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", secret);
        using var response = await app.Client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
        Assert.Equal("no_provider_key", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(forwarded, app.Azure.Requests.Count);
        Assert.Equal(503, Assert.Single(await RowsWith(id, "no_provider_key")).Status);
    }

    [FunctionsHostTheory]
    [InlineData("/api/relay/openai/v1%2Fchat%2Fcompletions")]
    [InlineData("/api/relay/openai/v1/%5c..%5cadmin")]
    public async Task Encoded_path_escapes_are_refused_with_invalid_path(string target)
    {
        var (_, secret) = await app.CreateRelayKeyAsync();
        var forwarded = app.OpenAI.Requests.Count;
        var (status, response) = await RawHttp.SendAsync(app.BaseUri, "POST", target,
            new Dictionary<string, string> { ["Authorization"] = "Bearer " + secret, ["Content-Type"] = "application/json" }, ChatBody);
        Assert.True(status == 400, $"{status} {response}");
        Assert.Contains("\"code\":\"invalid_path\"", response);
        Assert.Equal(forwarded, app.OpenAI.Requests.Count);
    }

    [FunctionsHostFact]
    public async Task Errors_come_in_each_providers_own_shape()
    {
        await ProviderErrorShapes.AssertEachProvidersShapeAsync(app.Client);
    }
}
