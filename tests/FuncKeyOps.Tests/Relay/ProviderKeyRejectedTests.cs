using System.ClientModel;
using System.Text.Json;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using FuncKeyOps.Testing.Providers;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// The provider refusing the relay's own provider key is our failure, not the client's: SDKs must not tell the
/// user their key is wrong, the provider's answer is not passed on, and the audit row names the cause.
/// </summary>
public class ProviderKeyRejectedTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OpenAI_SDK_sees_a_502_provider_key_rejected_when_the_provider_refuses_our_key(bool stream)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        var chat = RelaySdks.OpenAIChat(host, secret, retry: false);

        var error = await Assert.ThrowsAsync<ClientResultException>(async () =>
        {
            if (stream)
            {
                await foreach (var _ in chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
                {
                }
            }
            else
            {
                await chat.CompleteChatAsync([new UserChatMessage("hi")]);
            }
        });

        Assert.Equal(502, error.Status);
        Assert.Contains("provider_key_rejected", error.Message); // the SDK shows "HTTP 502 (server_error: provider_key_rejected)"
        var body = JsonDocument.Parse(error.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal(("provider_key_rejected", "server_error"), (body.GetProperty("code").GetString(), body.GetProperty("type").GetString()));
        Assert.DoesNotContain("Incorrect API key", error.Message); // the provider's own words stay with us
        Assert.Single(host.OpenAI.Requests); // a refused key is not retried
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((502, "provider_key_rejected", 401), (row.Status, row.ErrorCode, row.UpstreamStatus));
        Assert.Equal("openai-main", row.ProviderKeyName);
        Assert.Contains(host.Server.Logs.Lines, line => line.StartsWith("Warning ", StringComparison.Ordinal)
            && line.Contains("openai-main", StringComparison.Ordinal) && line.Contains(row.ProviderKeyVersion!, StringComparison.Ordinal)
            && line.Contains("401", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(401, false)]
    [InlineData(403, false)]
    [InlineData(401, true)]
    public async Task Anthropic_SDK_sees_a_502_provider_key_rejected_for_a_401_or_403(int upstreamStatus, bool stream)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        if (upstreamStatus == 401)
            host.Anthropic.RevokeKey(host.ProviderKeyValues["anthropic"]);
        else
            host.Anthropic.FailNext(upstreamStatus);
        using var client = RelaySdks.Anthropic(host, secret);

        var error = await Assert.ThrowsAnyAsync<Anthropic5xxException>(async () =>
        {
            if (stream)
            {
                await foreach (var _ in client.Messages.CreateStreaming(RelaySdks.AnthropicMessage()))
                {
                }
            }
            else
            {
                await client.Messages.Create(RelaySdks.AnthropicMessage());
            }
        });

        Assert.Equal(502, (int)error.StatusCode);
        Assert.Equal("provider_key_rejected", error.ErrorCode);
        Assert.Equal("api_error", error.Type);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((502, "provider_key_rejected", upstreamStatus), (row.Status, row.ErrorCode, row.UpstreamStatus));
    }

    [Theory]
    [InlineData("openai", "/api/relay/openai/v1/chat/completions", "Authorization", "Bearer ", """{"model":"gpt-4o-mini","messages":[]}""", 401)]
    [InlineData("openai", "/api/relay/openai/v1/chat/completions", "Authorization", "Bearer ", """{"model":"gpt-4o-mini","stream":true,"messages":[]}""", 403)]
    [InlineData("azure-openai", "/api/relay/azure-openai/openai/deployments/d/chat/completions?api-version=2024-10-21", "api-key", "", """{"messages":[]}""", 401)]
    [InlineData("gemini", "/api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent", "x-goog-api-key", "", """{"contents":[]}""", 403)]
    public async Task The_providers_refusal_is_never_passed_through(string provider, string target, string header, string scheme, string body, int upstreamStatus)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var fake = provider switch { "openai" => (FakeProvider)host.OpenAI, "azure-openai" => host.Azure, _ => host.Gemini };
        if (upstreamStatus == 401)
            fake.RevokeKey(host.ProviderKeyValues[provider]);
        else
            fake.FailNext(upstreamStatus);

        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", target,
            new Dictionary<string, string> { [header] = scheme + secret, ["Content-Type"] = "application/json" }, body);

        Assert.Equal(502, status);
        Assert.Contains("x-should-retry: false", response, StringComparison.OrdinalIgnoreCase); // retrying cannot help; the operator must act
        var upstream = Assert.Single(fake.Requests);
        Assert.DoesNotContain(upstream.RequestId, response); // neither the provider's body nor its request-id header
        var json = JsonDocument.Parse(RawHttp.BodyOf(response)).RootElement.GetProperty("error");
        Assert.Contains("provider key", json.GetProperty("message").GetString());
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((502, "provider_key_rejected", upstreamStatus), (row.Status, row.ErrorCode, row.UpstreamStatus));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task A_refusal_labelled_as_an_event_stream_is_not_streamed_through(int upstreamStatus)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.Anthropic.FailNextAsEventStream(upstreamStatus);

        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/anthropic/v1/messages",
            new Dictionary<string, string> { ["x-api-key"] = secret, ["Content-Type"] = "application/json", ["anthropic-version"] = "2023-06-01" },
            """{"model":"claude-sonnet-4-5-20250929","max_tokens":5,"stream":true,"messages":[]}""");

        Assert.Equal(502, status);
        Assert.DoesNotContain("text/event-stream", response);
        Assert.DoesNotContain(Assert.Single(host.Anthropic.Requests).RequestId, response);
        var error = JsonDocument.Parse(RawHttp.BodyOf(response)).RootElement.GetProperty("error");
        Assert.Equal("provider_key_rejected", error.GetProperty("details").GetProperty("error_code").GetString());
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((502, "provider_key_rejected", upstreamStatus, true), (row.Status, row.ErrorCode, row.UpstreamStatus, row.Streamed));
    }

    [Fact]
    public async Task Geminis_invalid_key_answer_is_a_400_with_reason_API_KEY_INVALID_and_is_a_refusal_too()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        const string target = "/api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent";
        var headers = new Dictionary<string, string> { ["x-goog-api-key"] = secret, ["Content-Type"] = "application/json" };
        const string body = """{"contents":[]}""";

        host.Gemini.FailNext(400); // an ordinary bad request is the client's and reaches it as Google sent it
        var (ordinary, ordinaryResponse) = await RawHttp.SendAsync(host.BaseUri, "POST", target, headers, body);
        Assert.Equal(400, ordinary);
        Assert.Contains("INVALID_ARGUMENT", ordinaryResponse);

        host.Gemini.RevokeKey(host.ProviderKeyValues["gemini"]);
        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", target, headers, body);

        Assert.Equal(502, status);
        Assert.DoesNotContain("API key not valid", response);
        var error = JsonDocument.Parse(RawHttp.BodyOf(response)).RootElement.GetProperty("error");
        Assert.Equal("PROVIDER_KEY_REJECTED", error.GetProperty("details")[0].GetProperty("reason").GetString());
        var rows = await host.RowsAsync(key.Id);
        Assert.Equal((null, null), rows.Where(r => r.Status == 400).Select(r => (r.ErrorCode, r.UpstreamStatus)).Single());
        Assert.Equal(("provider_key_rejected", 400), rows.Where(r => r.Status == 502).Select(r => (r.ErrorCode, r.UpstreamStatus)).Single());
    }
}
