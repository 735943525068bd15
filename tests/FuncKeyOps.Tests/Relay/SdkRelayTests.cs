using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Providers;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The official SDKs work against the relay by changing only the base URL and the key.</summary>
public class SdkRelayTests
{
    [Fact]
    public async Task OpenAI_SDK_chat_through_the_relay_is_answered_and_audited_with_usage()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.Usage = new FakeUsage(23, 5);

        var completion = (await RelaySdks.OpenAIChat(host, secret).CompleteChatAsync([new UserChatMessage("hi")])).Value;

        Assert.Equal(host.OpenAI.ReplyText, completion.Content[0].Text);
        Assert.Equal(23, completion.Usage.InputTokenCount);
        var upstream = Assert.Single(host.OpenAI.Requests);
        Assert.Equal("Bearer " + host.ProviderKeyValues["openai"], upstream.Header("authorization"));
        Assert.DoesNotContain(secret, string.Join("\n", upstream.Headers.Values));

        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal(200, row.Status);
        Assert.Equal("openai", row.Provider);
        Assert.Equal("gpt-4o-mini", row.Model);
        Assert.Equal("v1/chat/completions", row.Path);
        Assert.Equal(23, row.InputTokens);
        Assert.Equal(5, row.OutputTokens);
        Assert.Equal("openai-main", row.ProviderKeyName);
        Assert.NotNull(row.ProviderKeyVersion);
        Assert.Equal(64, row.BodySha256!.Length);
        Assert.Equal("tests", row.Tenant);
    }

    [Fact]
    public async Task OpenAI_SDK_streaming_through_the_relay_keeps_the_usage_it_asked_for()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.StreamChunks = 4;

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in RelaySdks.OpenAIChat(host, secret).CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
                text.Append(part.Text);
            usage = update.Usage ?? usage;
        }

        Assert.Equal(host.OpenAI.ReplyText, text.ToString());
        Assert.NotNull(usage); // the SDK asked for it, so the relay must not strip it
        Assert.Equal(host.OpenAI.Usage.InputTokens, usage.InputTokenCount);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.True(row.Streamed);
        Assert.Equal(host.OpenAI.Usage.InputTokens, row.InputTokens);
        Assert.Equal(host.OpenAI.Usage.OutputTokens, row.OutputTokens);
    }

    [Fact]
    public async Task A_stream_without_include_usage_is_counted_and_the_extra_usage_chunk_is_not_shown()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.DoesNotContain("\"usage\":{", body);
        Assert.Contains("data: [DONE]", body);
        var upstream = Assert.Single(host.OpenAI.Requests).Json();
        Assert.True(upstream.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal(host.OpenAI.Usage.InputTokens, row.InputTokens);
        Assert.Equal(host.OpenAI.Usage.OutputTokens, row.OutputTokens);
    }

    [Fact]
    public async Task Anthropic_SDK_through_the_relay_is_answered_and_audited_with_usage()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.Anthropic.Usage = new FakeUsage(17, 4);
        using var client = RelaySdks.Anthropic(host, secret);

        var message = await client.Messages.Create(RelaySdks.AnthropicMessage());

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal(host.Anthropic.ReplyText, text.Text);
        var upstream = Assert.Single(host.Anthropic.Requests);
        Assert.Equal(host.ProviderKeyValues["anthropic"], upstream.Header("x-api-key"));
        Assert.Null(upstream.Header("authorization"));
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((200, 17L, 4L), (row.Status, row.InputTokens, row.OutputTokens));
        Assert.Equal("claude-sonnet-4-5-20250929", row.Model);
    }

    [Fact]
    public async Task Anthropic_SDK_streaming_through_the_relay_is_audited_with_usage()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.Anthropic.StreamChunks = 5;
        using var client = RelaySdks.Anthropic(host, secret);

        var text = new StringBuilder();
        await foreach (var streamEvent in client.Messages.CreateStreaming(RelaySdks.AnthropicMessage()))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var part))
                text.Append(part.Text);
        }

        Assert.Equal(host.Anthropic.ReplyText, text.ToString());
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.True(row.Streamed);
        Assert.Equal(host.Anthropic.Usage.InputTokens, row.InputTokens);
        Assert.Equal(host.Anthropic.Usage.OutputTokens, row.OutputTokens);
    }

    /// <summary>
    /// count_tokens answers <c>{"input_tokens":N}</c>, a count of the prompt, not tokens used: it must not count
    /// against a budget. The messages call afterwards shows the budget is live in this very setup.
    /// </summary>
    [Fact]
    public async Task Anthropic_SDK_count_tokens_through_the_relay_is_audited_and_not_counted_against_budgets()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "budget", DailyTokens = 100 });
        host.Anthropic.Usage = new FakeUsage(1_000, 5);
        using var client = RelaySdks.Anthropic(host, secret);
        var countParams = new MessageCountTokensParams { Model = "claude-sonnet-4-5-20250929", Messages = [new UserMessageParam("hi")] };

        Assert.Equal(1_000, (await client.Messages.CountTokens(countParams)).InputTokens);
        Assert.Equal(1_000, (await client.Messages.CountTokens(countParams)).InputTokens);
        await client.Messages.Create(RelaySdks.AnthropicMessage());
        await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicRateLimitException>(() => client.Messages.CountTokens(countParams));

        Assert.Equal(["/v1/messages/count_tokens", "/v1/messages/count_tokens", "/v1/messages"], host.Anthropic.Requests.Select(r => r.Path));
        Assert.Equal(host.ProviderKeyValues["anthropic"], host.Anthropic.Requests[0].Header("x-api-key"));
        var rows = (await host.RowsAsync(key.Id)).Where(r => r.Path == "v1/messages/count_tokens" && r.Status == 200).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row =>
        {
            Assert.Equal("claude-sonnet-4-5-20250929", row.Model);
            Assert.Null(row.InputTokens);
            Assert.Null(row.OutputTokens);
        });
    }

    [Fact]
    public async Task Anthropic_count_tokens_is_held_to_the_model_allow_list()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "haiku", Models = ["claude-haiku-4-5-20251001"] });
        using var client = RelaySdks.Anthropic(host, secret);

        await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicForbiddenException>(() => client.Messages.CountTokens(
            new MessageCountTokensParams { Model = "claude-sonnet-4-5-20250929", Messages = [new UserMessageParam("hi")] }));
        var allowed = await client.Messages.CountTokens(
            new MessageCountTokensParams { Model = "claude-haiku-4-5-20251001", Messages = [new UserMessageParam("hi")] });

        Assert.Equal(host.Anthropic.Usage.InputTokens, allowed.InputTokens);
        Assert.Equal("claude-haiku-4-5-20251001", Assert.Single(host.Anthropic.Requests).Json().GetProperty("model").GetString());
    }

    [Fact]
    public async Task Gemini_batchEmbedContents_through_the_relay_is_answered_and_audited_with_the_path_model()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        using var response = await GeminiBatchEmbedAsync(host, secret, "text-embedding-004", BatchEmbedBody("text-embedding-004", "text-embedding-004"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(2, body.GetProperty("embeddings").GetArrayLength());
        var upstream = Assert.Single(host.Gemini.Requests);
        Assert.Equal("/v1beta/models/text-embedding-004:batchEmbedContents", upstream.Path);
        Assert.Equal(host.ProviderKeyValues["gemini"], upstream.Header("x-goog-api-key"));
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((200, "text-embedding-004", false), (row.Status, row.Model, row.Streamed));
        Assert.Null(row.InputTokens);
    }

    /// <summary>
    /// Google refuses a batch whose requests name another model than the path, but the relay does not rely on it:
    /// a model named in the body is held to the allow-list too, so such a call is never forwarded.
    /// </summary>
    [Fact]
    public async Task Gemini_batchEmbedContents_is_held_to_the_model_allow_list_by_its_path_and_by_every_request()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "flash", Models = ["gemini-2.0-flash", "text-embedding-004"] });

        using var pathNotAllowed = await GeminiBatchEmbedAsync(host, secret, "gemini-embedding-001", BatchEmbedBody("gemini-embedding-001", "gemini-embedding-001"));
        using var bodyNotAllowed = await GeminiBatchEmbedAsync(host, secret, "text-embedding-004", BatchEmbedBody("text-embedding-004", "gemini-embedding-001"));
        using var allowed = await GeminiBatchEmbedAsync(host, secret, "text-embedding-004", BatchEmbedBody("text-embedding-004", "text-embedding-004"));

        Assert.Equal(403, (int)pathNotAllowed.StatusCode);
        Assert.Equal(403, (int)bodyNotAllowed.StatusCode);
        Assert.Equal("PERMISSION_DENIED", JsonDocument.Parse(await bodyNotAllowed.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("status").GetString());
        Assert.Equal(200, (int)allowed.StatusCode);
        Assert.Single(host.Gemini.Requests);
        var refused = (await host.RowsAsync(key.Id)).Where(r => r.Status == 403).Select(r => r.Model).Order();
        Assert.Equal(["gemini-embedding-001", "gemini-embedding-001"], refused);
    }

    private static async Task<HttpResponseMessage> GeminiBatchEmbedAsync(RelayHost host, string relayKey, string pathModel, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/relay/gemini/v1beta/models/{pathModel}:batchEmbedContents")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-api-key", relayKey);
        return await host.Client.SendAsync(request);
    }

    /// <summary>Two embed requests, each naming its model as Google's SDKs do (<c>models/...</c>).</summary>
    private static string BatchEmbedBody(string firstModel, string secondModel) => $$$"""
        {"requests":[
          {"model":"models/{{{firstModel}}}","content":{"parts":[{"text":"first"}]}},
          {"model":"models/{{{secondModel}}}","content":{"parts":[{"text":"second"}]}}]}
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gemini_in_its_own_format_with_the_key_in_the_query(bool stream)
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var path = stream
            ? $"api/relay/gemini/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key={secret}"
            : $"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={secret}";
        using var response = await host.Client.PostAsync(path,
            new StringContent("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("usageMetadata", body);
        var upstream = Assert.Single(host.Gemini.Requests);
        Assert.DoesNotContain(secret, upstream.PathAndQuery);
        Assert.DoesNotContain("key=", upstream.Query);
        Assert.Equal(host.ProviderKeyValues["gemini"], upstream.Header("x-goog-api-key"));
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal(("gemini-2.0-flash", stream), (row.Model, row.Streamed));
        Assert.Equal(host.Gemini.Usage.InputTokens, row.InputTokens);
        Assert.Equal(host.Gemini.Usage.OutputTokens, row.OutputTokens);
    }

    [Fact]
    public async Task Azure_OpenAI_in_its_own_format_with_the_api_key_header()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/azure-openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"stream":true}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", secret);
        using var response = await host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains("data: [DONE]", body);
        var upstream = Assert.Single(host.Azure.Requests);
        Assert.Equal(host.ProviderKeyValues["azure-openai"], upstream.Header("api-key"));
        Assert.Equal("?api-version=2024-10-21", upstream.Query);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal("gpt-4o-mini", row.Model);
        Assert.Equal(host.Azure.Usage.InputTokens, row.InputTokens);
    }
}
