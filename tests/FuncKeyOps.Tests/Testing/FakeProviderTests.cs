using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental in OpenAI 2.x.

namespace FuncKeyOps.Tests.Testing;

/// <summary>
/// The fakes are only useful if they speak the real wire formats, so the official SDKs are pointed
/// straight at them; providers without a .NET SDK here are spoken to in raw HTTP.
/// Every test starts its own fake, so tests can run in parallel.
/// </summary>
public sealed class FakeProviderTests
{
    private const string Key = "test-provider-key-0001";
    private const string WrongKey = "canary-wrong-key-9f3a";
    private const string AzureApiVersion = "2024-10-21";

    // A bound on every wait, so a broken fake fails the test instead of hanging the run.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Providers => ["openai", "anthropic", "gemini", "azure-openai"];

    // ---- OpenAI, through the official SDK ----

    [Fact]
    public async Task OpenAI_ChatClient_gets_completion_with_usage_and_echoed_model()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        fake.Usage = new FakeUsage(23, 5);

        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(Key), OpenAIOptions(fake));
        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal(fake.ReplyText, completion.Content[0].Text);
        Assert.Equal("gpt-4o-mini", completion.Model);
        Assert.Equal(23, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(28, completion.Usage.TotalTokenCount);

        var request = Assert.Single(fake.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1/chat/completions", request.PathAndQuery);
        Assert.Equal("Bearer " + Key, request.Header("authorization"));
        Assert.False(request.Json().TryGetProperty("stream", out _));
    }

    [Fact]
    public async Task OpenAI_ChatClient_streams_text_and_usage_because_the_SDK_asks_for_include_usage()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        fake.StreamChunks = 4;

        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(Key), OpenAIOptions(fake));
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
        }

        Assert.Equal(fake.ReplyText, text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(fake.Usage.InputTokens, usage.InputTokenCount);
        Assert.Equal(fake.Usage.OutputTokens, usage.OutputTokenCount);

        var body = Assert.Single(fake.Requests).Json();
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
    }

    [Fact]
    public async Task OpenAI_stream_without_include_usage_has_no_usage_anywhere()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        using var http = new HttpClient();

        var events = await ReadAllEventsAsync(http, ValidRequest(fake, Key, stream: true));

        Assert.Equal("[DONE]", events[^1].Data);
        Assert.All(events.SkipLast(1), e => Assert.False(Parse(e.Data).TryGetProperty("usage", out _)));
        Assert.All(events.SkipLast(1), e => Assert.Equal("chat.completion.chunk", Parse(e.Data).GetProperty("object").GetString()));
    }

    [Fact]
    public async Task OpenAI_EmbeddingClient_gets_one_vector_per_input_and_usage()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);

        var client = new EmbeddingClient("text-embedding-3-small", new ApiKeyCredential(Key), OpenAIOptions(fake));
        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(["first", "second"]);

        Assert.Equal(2, embeddings.Count);
        Assert.Equal(8, embeddings[0].ToFloats().Length);
        Assert.NotEqual(embeddings[0].ToFloats().ToArray(), embeddings[1].ToFloats().ToArray());
        Assert.Equal(fake.Usage.InputTokens, embeddings.Usage.InputTokenCount);
        Assert.Equal(fake.Usage.InputTokens, embeddings.Usage.TotalTokenCount);

        var body = Assert.Single(fake.Requests).Json();
        Assert.Equal("/v1/embeddings", fake.Requests[0].Path);
        Assert.Equal("base64", body.GetProperty("encoding_format").GetString());
    }

    [Fact]
    public async Task OpenAI_ResponsesClient_gets_response_with_usage()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        fake.Usage = new FakeUsage(31, 9);

        var client = new ResponsesClient(new ApiKeyCredential(Key), new ResponsesClientOptions { Endpoint = new Uri(fake.BaseUri, "v1") });
        ResponseResult response = await client.CreateResponseAsync("gpt-4.1", "hi");

        Assert.Equal(fake.ReplyText, response.GetOutputText());
        Assert.Equal("gpt-4.1", response.Model);
        Assert.Equal(31, response.Usage.InputTokenCount);
        Assert.Equal(9, response.Usage.OutputTokenCount);
        Assert.Equal(40, response.Usage.TotalTokenCount);
        Assert.Equal("/v1/responses", Assert.Single(fake.Requests).Path);
    }

    [Fact]
    public async Task OpenAI_ResponsesClient_streams_deltas_and_usage_on_completed()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);

        var client = new ResponsesClient(new ApiKeyCredential(Key), new ResponsesClientOptions { Endpoint = new Uri(fake.BaseUri, "v1") });
        var text = new StringBuilder();
        ResponseTokenUsage? usage = null;
        await foreach (var update in await client.CreateResponseStreamingAsync("gpt-4.1", "hi"))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate completed:
                    usage = completed.Response.Usage;
                    break;
            }
        }

        Assert.Equal(fake.ReplyText, text.ToString());
        Assert.NotNull(usage);
        Assert.Equal(fake.Usage.InputTokens, usage.InputTokenCount);
        Assert.Equal(fake.Usage.OutputTokens, usage.OutputTokenCount);
        Assert.True(Assert.Single(fake.Requests).Json().GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task OpenAI_ChatClient_with_wrong_key_fails_with_401_and_the_key_is_not_echoed()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);

        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential(WrongKey), OpenAIOptions(fake));
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        var body = error.GetRawResponse()!.Content.ToString();
        Assert.Equal("invalid_api_key", Parse(body).GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(WrongKey, body);
        Assert.DoesNotContain(WrongKey[^4..], body);
    }

    [Fact]
    public async Task OpenAI_lists_models()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fake.BaseUri, "v1/models"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);

        using var response = await http.SendAsync(request);

        var body = await ReadJsonAsync(response);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Contains(body.GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "gpt-4o-mini");
    }

    // ---- Anthropic, through the official SDK ----

    [Fact]
    public async Task Anthropic_SDK_creates_message_with_usage()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        fake.Usage = new FakeUsage(17, 4);
        using var client = AnthropicClientFor(fake, Key);

        var message = await client.Messages.Create(RelaySdks.AnthropicMessage());

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal(fake.ReplyText, text.Text);
        Assert.Equal(17, message.Usage.InputTokens);
        Assert.Equal(4, message.Usage.OutputTokens);

        var request = Assert.Single(fake.Requests);
        Assert.Equal("/v1/messages", request.PathAndQuery);

        // Anthropic 13.x sends the key as a bearer token, not x-api-key, and a dated anthropic-version of its own.
        Assert.Equal("Bearer " + Key, request.Header("authorization"));
        Assert.Null(request.Header("x-api-key"));
        Assert.False(string.IsNullOrEmpty(request.Header("anthropic-version")));
        Assert.False(string.IsNullOrEmpty(fake.Requests[0].RequestId));
    }

    [Fact]
    public async Task Anthropic_SDK_streams_text_with_input_usage_on_start_and_output_usage_on_delta()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        fake.StreamChunks = 5;
        using var client = AnthropicClientFor(fake, Key);

        var text = new StringBuilder();
        long? input = null;
        long? output = null;
        var types = new List<string>();
        await foreach (var streamEvent in client.Messages.CreateStreaming(RelaySdks.AnthropicMessage()))
        {
            if (streamEvent.TryPickStart(out var start))
            {
                input = start.Message.Usage.InputTokens;
            }
            else if (streamEvent.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta.Text);
            }
            else if (streamEvent.TryPickDelta(out var messageDelta))
            {
                output = messageDelta.Usage.OutputTokens;
            }
        }

        Assert.Equal(fake.ReplyText, text.ToString());
        Assert.Equal(fake.Usage.InputTokens, input);
        Assert.Equal(fake.Usage.OutputTokens, output);
        Assert.True(Assert.Single(fake.Requests).Json().GetProperty("stream").GetBoolean());
    }

    [Fact]
    public async Task Anthropic_raw_stream_has_the_documented_event_order()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        using var http = new HttpClient();

        var events = await ReadAllEventsAsync(http, ValidRequest(fake, Key, stream: true));

        string[] expected =
        [
            "message_start", "content_block_start", "ping",
            .. Enumerable.Repeat("content_block_delta", fake.StreamChunks),
            "content_block_stop", "message_delta", "message_stop",
        ];
        Assert.Equal(expected, events.Select(e => e.Event));
        Assert.All(events, e => Assert.Equal(e.Event, Parse(e.Data).GetProperty("type").GetString()));
        Assert.Equal("end_turn", Parse(events[^2].Data).GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    [Fact]
    public async Task Anthropic_without_version_header_is_400_invalid_request()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        using var http = new HttpClient();
        using var request = ValidRequest(fake, Key, stream: false);
        request.Headers.Remove("anthropic-version");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await ReadJsonAsync(response, expectSuccess: false);
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Anthropic_SDK_with_wrong_key_gets_authentication_error()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        using var client = AnthropicClientFor(fake, WrongKey);

        var error = await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicUnauthorizedException>(() => client.Messages.Create(RelaySdks.AnthropicMessage()));

        Assert.Contains("authentication_error", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(WrongKey, error.ToString());
        Assert.Single(fake.Requests);
    }

    [Fact]
    public async Task Anthropic_SDK_counts_tokens_with_input_tokens_only()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        fake.Usage = new FakeUsage(42, 9);
        using var client = AnthropicClientFor(fake, Key);

        var count = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "claude-sonnet-4-5-20250929",
            Messages = [new UserMessageParam("hi")],
        });

        Assert.Equal(42, count.InputTokens);
        var request = Assert.Single(fake.Requests);
        Assert.Equal("/v1/messages/count_tokens", request.PathAndQuery);
        Assert.False(request.Json().TryGetProperty("max_tokens", out _)); // count_tokens takes no max_tokens
    }

    [Fact]
    public async Task Anthropic_count_tokens_answers_only_input_tokens_and_checks_its_body_and_key()
    {
        await using var fake = await FakeAnthropic.StartAsync(Key);
        using var http = new HttpClient();
        var body = new JsonObject
        {
            ["model"] = "claude-sonnet-4-5-20250929",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        };

        using var counted = await http.SendAsync(AnthropicPost(fake, "v1/messages/count_tokens", body, Key));
        var answer = await ReadJsonAsync(counted);
        Assert.Equal(fake.Usage.InputTokens, answer.GetProperty("input_tokens").GetInt32());
        Assert.Equal(["input_tokens"], answer.EnumerateObject().Select(p => p.Name));

        body.Remove("messages");
        using var noMessages = await http.SendAsync(AnthropicPost(fake, "v1/messages/count_tokens", body, Key));
        Assert.Equal(HttpStatusCode.BadRequest, noMessages.StatusCode);
        Assert.Equal("invalid_request_error", (await ReadJsonAsync(noMessages, expectSuccess: false)).GetProperty("error").GetProperty("type").GetString());

        using var wrongKey = await http.SendAsync(AnthropicPost(fake, "v1/messages/count_tokens", body, WrongKey));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        AssertProviderError("anthropic", 401, await ReadJsonAsync(wrongKey, expectSuccess: false));
    }

    // ---- Gemini, raw HTTP in its own format ----

    [Fact]
    public async Task Gemini_generateContent_returns_candidates_and_usageMetadata()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();

        using var response = await http.SendAsync(ValidRequest(fake, Key, stream: false));

        var body = await ReadJsonAsync(response);
        var candidate = body.GetProperty("candidates")[0];
        Assert.Equal(fake.ReplyText, candidate.GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString());
        Assert.Equal("STOP", candidate.GetProperty("finishReason").GetString());
        AssertGeminiUsage(fake.Usage, body.GetProperty("usageMetadata"));
        Assert.Equal("gemini-2.0-flash", body.GetProperty("modelVersion").GetString());
        Assert.Equal(Key, Assert.Single(fake.Requests).Header("x-goog-api-key"));
    }

    [Fact]
    public async Task Gemini_SSE_stream_with_query_key_has_cumulative_usage_and_CRLF_framing()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();
        var uri = new Uri(fake.BaseUri, $"v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse&key={Key}");
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = JsonContent(GeminiBody()) };

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("\r\n\r\n", raw);
        var chunks = raw.Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries).Select(e => Parse(e["data: ".Length..])).ToList();
        Assert.Equal(fake.StreamChunks, chunks.Count);
        Assert.Equal(fake.ReplyText, string.Concat(chunks.Select(c => c.GetProperty("candidates")[0].GetProperty("content").GetProperty("parts")[0].GetProperty("text").GetString())));
        Assert.All(chunks, c => Assert.Equal(fake.Usage.InputTokens, c.GetProperty("usageMetadata").GetProperty("promptTokenCount").GetInt32()));
        AssertGeminiUsage(fake.Usage, chunks[^1].GetProperty("usageMetadata"));
        Assert.Equal("STOP", chunks[^1].GetProperty("candidates")[0].GetProperty("finishReason").GetString());
        Assert.Null(Assert.Single(fake.Requests).Header("x-goog-api-key"));
    }

    [Fact]
    public async Task Gemini_stream_without_alt_sse_is_one_JSON_array()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fake.BaseUri, "v1beta/models/gemini-2.0-flash:streamGenerateContent"))
        {
            Content = JsonContent(GeminiBody()),
        };
        request.Headers.Add("x-goog-api-key", Key);

        using var response = await http.SendAsync(request);
        var chunks = await ReadJsonAsync(response);

        Assert.Equal(fake.StreamChunks, chunks.GetArrayLength());
        AssertGeminiUsage(fake.Usage, chunks[fake.StreamChunks - 1].GetProperty("usageMetadata"));
    }

    [Fact]
    public async Task Gemini_missing_key_is_403_permission_denied()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(fake.BaseUri, "v1beta/models/gemini-2.0-flash:generateContent"))
        {
            Content = JsonContent(GeminiBody()),
        };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("PERMISSION_DENIED", (await ReadJsonAsync(response, expectSuccess: false)).GetProperty("error").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Gemini_lists_models()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();

        using var response = await http.GetAsync(new Uri(fake.BaseUri, $"v1beta/models?key={Key}"));

        var body = await ReadJsonAsync(response);
        Assert.Contains(body.GetProperty("models").EnumerateArray(), m => m.GetProperty("name").GetString() == "models/gemini-2.0-flash");
    }

    [Fact]
    public async Task Gemini_batchEmbedContents_answers_one_embedding_per_request_in_order()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();

        using var response = await http.SendAsync(GeminiPost(fake, "v1beta/models/text-embedding-004:batchEmbedContents", BatchEmbedBody("text-embedding-004", "first", "second", "third"), Key));

        var embeddings = (await ReadJsonAsync(response)).GetProperty("embeddings");
        Assert.Equal(3, embeddings.GetArrayLength());
        var vectors = embeddings.EnumerateArray().Select(e => e.GetProperty("values").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.All(vectors, v => Assert.Equal(8, v.Length));
        Assert.Equal(3, vectors.Select(v => string.Join(',', v)).Distinct().Count());
    }

    [Fact]
    public async Task Gemini_batchEmbedContents_refuses_a_request_for_another_model_a_missing_model_and_a_wrong_key()
    {
        await using var fake = await FakeGemini.StartAsync(Key);
        using var http = new HttpClient();
        const string path = "v1beta/models/text-embedding-004:batchEmbedContents";

        // Google requires every request's model to be the one in the path.
        var otherModel = BatchEmbedBody("text-embedding-004", "a", "b");
        otherModel["requests"]![1]!["model"] = "models/gemini-embedding-001";
        using var mismatch = await http.SendAsync(GeminiPost(fake, path, otherModel, Key));
        Assert.Equal(HttpStatusCode.BadRequest, mismatch.StatusCode);
        AssertProviderError("gemini", 400, await ReadJsonAsync(mismatch, expectSuccess: false));

        var noModel = BatchEmbedBody("text-embedding-004", "a");
        noModel["requests"]![0]!.AsObject().Remove("model");
        using var missing = await http.SendAsync(GeminiPost(fake, path, noModel, Key));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);

        using var noRequests = await http.SendAsync(GeminiPost(fake, path, new JsonObject(), Key));
        Assert.Equal(HttpStatusCode.BadRequest, noRequests.StatusCode);

        using var wrongKey = await http.SendAsync(GeminiPost(fake, path, BatchEmbedBody("text-embedding-004", "a"), WrongKey));
        Assert.Equal(HttpStatusCode.BadRequest, wrongKey.StatusCode);
        Assert.Equal("API_KEY_INVALID", (await ReadJsonAsync(wrongKey, expectSuccess: false)).GetProperty("error").GetProperty("details")[0].GetProperty("reason").GetString());
    }

    // ---- Azure OpenAI, raw HTTP in its own format ----

    [Fact]
    public async Task Azure_chat_answers_with_the_deployment_model_and_filter_results()
    {
        await using var fake = await FakeAzureOpenAI.StartAsync(Key);
        fake.AddDeployment("prod-chat", "gpt-4o-2024-11-20");
        using var http = new HttpClient();
        using var request = AzureRequest(fake, "prod-chat", "chat/completions", ChatBody(stream: false));

        using var response = await http.SendAsync(request);

        var body = await ReadJsonAsync(response);
        Assert.Equal("gpt-4o-2024-11-20", body.GetProperty("model").GetString());
        Assert.Equal(fake.ReplyText, body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.True(body.TryGetProperty("prompt_filter_results", out _));
        Assert.Equal(fake.Usage.InputTokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(fake.Usage.OutputTokens, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(fake.Usage.TotalTokens, body.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        Assert.True(response.Headers.Contains("apim-request-id"));
    }

    [Fact]
    public async Task Azure_stream_with_include_usage_starts_with_a_filter_chunk_and_ends_with_usage()
    {
        await using var fake = await FakeAzureOpenAI.StartAsync(Key);
        using var http = new HttpClient();
        var body = ChatBody(stream: true);
        body["stream_options"] = new JsonObject { ["include_usage"] = true };

        var events = await ReadAllEventsAsync(http, AzureRequest(fake, "gpt-4o-mini", "chat/completions", body, bearer: true));

        Assert.Equal("[DONE]", events[^1].Data);
        var chunks = events.SkipLast(1).Select(e => Parse(e.Data)).ToList();

        // Azure's first chunk also has empty choices, but no usage: a parser must key on usage, not on choices.
        Assert.Equal(0, chunks[0].GetProperty("choices").GetArrayLength());
        Assert.True(chunks[0].TryGetProperty("prompt_filter_results", out _));
        Assert.False(chunks[0].TryGetProperty("usage", out _));

        var usage = chunks[^1].GetProperty("usage");
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(fake.Usage.InputTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(fake.Usage.OutputTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.All(chunks[1..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.Equal("gpt-4o-mini-2024-07-18", chunks[1].GetProperty("model").GetString());
        Assert.Equal("Bearer " + Key, Assert.Single(fake.Requests).Header("Authorization"));
    }

    [Fact]
    public async Task Azure_embeddings_and_models()
    {
        await using var fake = await FakeAzureOpenAI.StartAsync(Key);
        using var http = new HttpClient();
        var input = new JsonObject { ["input"] = new JsonArray("a", "b", "c") };

        using var embeddings = await http.SendAsync(AzureRequest(fake, "text-embedding-3-small", "embeddings", input));
        var body = await ReadJsonAsync(embeddings);
        Assert.Equal(3, body.GetProperty("data").GetArrayLength());
        Assert.Equal(fake.Usage.InputTokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        using var models = new HttpRequestMessage(HttpMethod.Get, new Uri(fake.BaseUri, $"openai/models?api-version={AzureApiVersion}"));
        models.Headers.Add("api-key", Key);
        using var listed = await http.SendAsync(models);
        Assert.Contains((await ReadJsonAsync(listed)).GetProperty("data").EnumerateArray(), m => m.GetProperty("id").GetString() == "gpt-4o-mini-2024-07-18");
    }

    [Fact]
    public async Task Azure_without_api_version_is_404_even_with_a_good_key_and_unknown_deployment_is_404()
    {
        await using var fake = await FakeAzureOpenAI.StartAsync(Key);
        using var http = new HttpClient();

        using var noVersion = new HttpRequestMessage(HttpMethod.Post, new Uri(fake.BaseUri, "openai/deployments/gpt-4o-mini/chat/completions"))
        {
            Content = JsonContent(ChatBody(stream: false)),
        };
        noVersion.Headers.Add("api-key", Key);
        using var missing = await http.SendAsync(noVersion);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("404", (await ReadJsonAsync(missing, expectSuccess: false)).GetProperty("error").GetProperty("code").GetString());

        using var unknown = await http.SendAsync(AzureRequest(fake, "no-such-deployment", "chat/completions", ChatBody(stream: false)));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("DeploymentNotFound", (await ReadJsonAsync(unknown, expectSuccess: false)).GetProperty("error").GetProperty("code").GetString());
    }

    // ---- Behaviour shared by every fake ----

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Wrong_or_missing_key_is_refused_in_the_provider_shape_without_echoing_it(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        using var http = new HttpClient();

        using var response = await http.SendAsync(ValidRequest(fake, WrongKey, stream: false));
        var raw = await response.Content.ReadAsStringAsync();

        // Google answers a key it does not know with 400 INVALID_ARGUMENT / API_KEY_INVALID.
        var expected = provider == "gemini" ? HttpStatusCode.BadRequest : HttpStatusCode.Unauthorized;
        Assert.Equal(expected, response.StatusCode);
        AssertProviderError(provider, (int)expected, Parse(raw));
        Assert.DoesNotContain(WrongKey, raw);
        Assert.DoesNotContain(WrongKey[^4..], raw);
        if (provider == "gemini")
        {
            Assert.Equal("API_KEY_INVALID", Parse(raw).GetProperty("error").GetProperty("details")[0].GetProperty("reason").GetString());
        }

        using var noKey = ValidRequest(fake, WrongKey, stream: false);
        RemoveKey(noKey);
        using var missing = await http.SendAsync(noKey);
        AssertProviderError(provider, (int)missing.StatusCode, await ReadJsonAsync(missing, expectSuccess: false));
        Assert.Equal(provider == "gemini" ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Revoked_key_is_refused_like_an_unknown_one(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.AcceptKey("second-key-0002");
        using var http = new HttpClient();

        using var before = await http.SendAsync(ValidRequest(fake, "second-key-0002", stream: false));
        fake.RevokeKey("second-key-0002");
        using var after = await http.SendAsync(ValidRequest(fake, "second-key-0002", stream: false));
        using var other = await http.SendAsync(ValidRequest(fake, Key, stream: false));

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(provider == "gemini" ? HttpStatusCode.BadRequest : HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task FailNext_429_sends_Retry_After_and_provider_error_once(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.FailNext(429, retryAfter: TimeSpan.FromSeconds(7));
        using var http = new HttpClient();

        using var failed = await http.SendAsync(ValidRequest(fake, Key, stream: false));
        using var next = await http.SendAsync(ValidRequest(fake, Key, stream: false));

        Assert.Equal(HttpStatusCode.TooManyRequests, failed.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), failed.Headers.RetryAfter?.Delta);
        AssertProviderError(provider, 429, await ReadJsonAsync(failed, expectSuccess: false));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(2, fake.Requests.Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task FailNext_5xx_twice_then_succeeds(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.FailNext(503, times: 2);
        using var http = new HttpClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await http.SendAsync(ValidRequest(fake, Key, stream: false));
            statuses.Add(response.StatusCode);
            if (i == 0)
            {
                AssertProviderError(provider, 503, await ReadJsonAsync(response, expectSuccess: false));
                Assert.Null(response.Headers.RetryAfter);
            }
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], statuses);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task DropNext_aborts_the_connection_without_a_response(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.DropNext();
        using var http = new HttpClient();

        await Assert.ThrowsAsync<HttpRequestException>(() => http.SendAsync(ValidRequest(fake, Key, stream: false)));

        using var next = await http.SendAsync(ValidRequest(fake, Key, stream: false));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        await fake.Requests[0].Aborted.WaitAsync(Patience);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task HangNext_holds_the_request_until_the_client_gives_up(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.HangNext();
        using var http = new HttpClient();
        using var giveUp = new CancellationTokenSource();
        giveUp.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => http.SendAsync(ValidRequest(fake, Key, stream: false), giveUp.Token));

        // The fake notices the client leaving, which is what a relay's upstream cancellation looks like.
        await Assert.Single(fake.Requests).Aborted.WaitAsync(Patience);
    }

    [Fact]
    public async Task ReleaseHangs_lets_a_hanging_request_be_served()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        fake.HangNext();
        using var http = new HttpClient();

        var sending = http.SendAsync(ValidRequest(fake, Key, stream: false));
        await fake.WaitForRequestsAsync(1).WaitAsync(Patience);
        Assert.False(sending.IsCompleted);

        fake.ReleaseHangs();
        using var response = await sending.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Paced_stream_does_not_send_chunk_two_before_the_test_releases_it(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        var pacer = new StreamPacer();
        fake.Pacer = pacer;
        var deltas = FakeProvider.ReplyDeltas(fake.StreamChunks);
        using var http = new HttpClient();
        using var patience = new CancellationTokenSource(Patience);

        using var response = await http.SendAsync(ValidRequest(fake, Key, stream: true), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, pacer.SentCount);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync(patience.Token));

        pacer.Release();
        await reader.ReadUntilAsync(e => e.Data.Contains(deltas[0], StringComparison.Ordinal), patience.Token);
        await pacer.ChunkSent(1).WaitAsync(patience.Token);

        // Chunk 2 needs a permit the test has not given, so neither the fake nor the wire can have it yet.
        var nextEvent = reader.NextAsync(patience.Token);
        Assert.Equal(1, pacer.SentCount);
        Assert.False(pacer.ChunkSent(2).IsCompleted);
        Assert.False(nextEvent.IsCompleted);

        pacer.Release();
        var second = await nextEvent;
        Assert.NotNull(second);
        Assert.Contains(deltas[1].Trim(), second.Data, StringComparison.Ordinal);
        await pacer.ChunkSent(2).WaitAsync(patience.Token);

        pacer.Release(fake.StreamChunks - 2);
        while (await reader.NextAsync(patience.Token) is not null)
        {
        }

        Assert.Equal(fake.StreamChunks, pacer.SentCount);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task DropNextStreamAfter_cuts_the_stream_after_the_given_chunks(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.DropNextStreamAfter(1);
        var pacer = new StreamPacer();
        fake.Pacer = pacer;
        var deltas = FakeProvider.ReplyDeltas(fake.StreamChunks);
        using var http = new HttpClient();
        using var patience = new CancellationTokenSource(Patience);

        using var response = await http.SendAsync(ValidRequest(fake, Key, stream: true), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync(patience.Token));
        pacer.Release();
        await reader.ReadUntilAsync(e => e.Data.Contains(deltas[0], StringComparison.Ordinal), patience.Token);

        // The drop takes chunk 2's place, so it happens only once chunk 1 has been read.
        pacer.Release();
        await Assert.ThrowsAnyAsync<IOException>(() => reader.NextAsync(patience.Token));
        await Assert.Single(fake.Requests).Aborted.WaitAsync(patience.Token);
        Assert.Equal(1, pacer.SentCount);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task StallNextStreamAfter_goes_quiet_in_place_of_the_next_chunk_until_the_client_closes(string provider)
    {
        await using var fake = await StartFakeAsync(provider);
        fake.StallNextStreamAfter(1);
        var pacer = new StreamPacer();
        fake.Pacer = pacer;
        var deltas = FakeProvider.ReplyDeltas(fake.StreamChunks);
        using var http = new HttpClient();
        using var patience = new CancellationTokenSource(Patience);

        using var response = await http.SendAsync(ValidRequest(fake, Key, stream: true), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        using var reader = new SseReader(await response.Content.ReadAsStreamAsync(patience.Token));
        pacer.Release(fake.StreamChunks); // every chunk may go: only the stall holds chunk 2 back
        await reader.ReadUntilAsync(e => e.Data.Contains(deltas[0], StringComparison.Ordinal), patience.Token);

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(patience.Token);
        var next = reader.NextAsync(giveUp.Token);
        await giveUp.CancelAsync(); // a cancelled read closes the client's connection
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
        await Assert.Single(fake.Requests).Aborted.WaitAsync(patience.Token);
        Assert.Equal(1, pacer.SentCount);
    }

    [Fact]
    public async Task FailNextAndStall_sends_the_status_and_half_the_error_body_then_nothing()
    {
        await using var fake = await FakeOpenAI.StartAsync(Key);
        fake.FailNextAndStall(400);
        using var http = new HttpClient();
        using var patience = new CancellationTokenSource(Patience);

        using var response = await http.SendAsync(ValidRequest(fake, Key, stream: false), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(patience.Token);
        var start = new byte[1];
        Assert.Equal(1, await body.ReadAsync(start, patience.Token));
        Assert.Equal((byte)'{', start[0]);

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(patience.Token);
        var rest = body.CopyToAsync(Stream.Null, giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => rest);
        await Assert.Single(fake.Requests).Aborted.WaitAsync(patience.Token);
    }

    [Fact]
    public async Task Requests_are_recorded_with_case_insensitive_headers_and_body()
    {
        await using var fake = await FakeAzureOpenAI.StartAsync(Key);
        fake.FailNext(500);
        using var http = new HttpClient();

        using var response = await http.SendAsync(AzureRequest(fake, "gpt-4o-mini", "chat/completions", ChatBody(stream: false)));

        var request = Assert.Single(fake.Requests);
        Assert.Equal($"/openai/deployments/gpt-4o-mini/chat/completions?api-version={AzureApiVersion}", request.PathAndQuery);
        Assert.Equal(Key, request.Headers["API-KEY"]);
        Assert.Equal("hi", request.Json().GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal(request.RequestId, response.Headers.GetValues("apim-request-id").Single());
        Assert.Equal(0, fake.PendingFaults);
    }

    // ---- helpers ----

    private static OpenAIClientOptions OpenAIOptions(FakeProvider fake) => new() { Endpoint = new Uri(fake.BaseUri, "v1") };

    private static AnthropicClient AnthropicClientFor(FakeProvider fake, string key) =>
        new(new ClientOptions { BaseUrl = fake.BaseUri.ToString().TrimEnd('/'), ApiKey = key, MaxRetries = 0 });

    private static async Task<FakeProvider> StartFakeAsync(string provider) => provider switch
    {
        "openai" => await FakeOpenAI.StartAsync(Key),
        "anthropic" => await FakeAnthropic.StartAsync(Key),
        "gemini" => await FakeGemini.StartAsync(Key),
        "azure-openai" => await FakeAzureOpenAI.StartAsync(Key),
        _ => throw new ArgumentOutOfRangeException(nameof(provider)),
    };

    /// <summary>A minimal valid call in each provider's own format, carrying <paramref name="key"/> where that provider expects it.</summary>
    private static HttpRequestMessage ValidRequest(FakeProvider fake, string key, bool stream)
    {
        switch (fake)
        {
            case FakeOpenAI:
            {
                var request = Post(fake, "v1/chat/completions", ChatBody(stream));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                return request;
            }

            case FakeAnthropic:
            {
                var body = new JsonObject
                {
                    ["model"] = "claude-sonnet-4-5-20250929",
                    ["max_tokens"] = 64,
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
                    ["stream"] = stream,
                };
                var request = Post(fake, "v1/messages", body);
                request.Headers.Add("x-api-key", key);
                request.Headers.Add("anthropic-version", "2023-06-01");
                return request;
            }

            case FakeGemini:
            {
                var method = stream ? "streamGenerateContent?alt=sse" : "generateContent";
                var request = Post(fake, $"v1beta/models/gemini-2.0-flash:{method}", GeminiBody());
                request.Headers.Add("x-goog-api-key", key);
                return request;
            }

            case FakeAzureOpenAI:
                return AzureRequest(fake, "gpt-4o-mini", "chat/completions", ChatBody(stream), key: key);

            default:
                throw new ArgumentOutOfRangeException(nameof(fake));
        }
    }

    private static HttpRequestMessage AnthropicPost(FakeProvider fake, string relativePath, JsonObject body, string key)
    {
        var request = Post(fake, relativePath, body);
        request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }

    private static HttpRequestMessage GeminiPost(FakeProvider fake, string relativePath, JsonObject body, string key)
    {
        var request = Post(fake, relativePath, body);
        request.Headers.Add("x-goog-api-key", key);
        return request;
    }

    /// <summary><c>{"requests":[{"model":"models/...","content":{"parts":[{"text":...}]}}, ...]}</c>, one request per text.</summary>
    private static JsonObject BatchEmbedBody(string model, params string[] texts) => new()
    {
        ["requests"] = new JsonArray(texts.Select(text => (JsonNode?)new JsonObject
        {
            ["model"] = "models/" + model,
            ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }) },
        }).ToArray()),
    };

    private static void RemoveKey(HttpRequestMessage request)
    {
        request.Headers.Authorization = null;
        request.Headers.Remove("x-api-key");
        request.Headers.Remove("x-goog-api-key");
        request.Headers.Remove("api-key");
    }

    private static HttpRequestMessage AzureRequest(FakeProvider fake, string deployment, string operation, JsonObject body, bool bearer = false, string key = Key)
    {
        var request = Post(fake, $"openai/deployments/{deployment}/{operation}?api-version={AzureApiVersion}", body);
        if (bearer)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else
        {
            request.Headers.Add("api-key", key);
        }

        return request;
    }

    private static HttpRequestMessage Post(FakeProvider fake, string relativePath, JsonObject body) =>
        new(HttpMethod.Post, new Uri(fake.BaseUri, relativePath)) { Content = JsonContent(body) };

    private static StringContent JsonContent(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private static JsonObject ChatBody(bool stream) => new()
    {
        ["model"] = "gpt-4o-mini",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        ["stream"] = stream,
    };

    private static JsonObject GeminiBody() => new()
    {
        ["contents"] = new JsonArray(new JsonObject
        {
            ["role"] = "user",
            ["parts"] = new JsonArray(new JsonObject { ["text"] = "hi" }),
        }),
    };

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, bool expectSuccess = true)
    {
        if (expectSuccess)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    private static void AssertGeminiUsage(FakeUsage usage, JsonElement metadata)
    {
        Assert.Equal(usage.InputTokens, metadata.GetProperty("promptTokenCount").GetInt32());
        Assert.Equal(usage.OutputTokens, metadata.GetProperty("candidatesTokenCount").GetInt32());
        Assert.Equal(usage.TotalTokens, metadata.GetProperty("totalTokenCount").GetInt32());
    }

    private static void AssertProviderError(string provider, int status, JsonElement body)
    {
        var error = body.GetProperty("error");
        switch (provider)
        {
            case "openai":
                Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
                Assert.True(error.TryGetProperty("param", out _));
                Assert.True(error.TryGetProperty("code", out _));
                break;
            case "anthropic":
                Assert.Equal("error", body.GetProperty("type").GetString());
                var expectedType = status switch
                {
                    401 => "authentication_error",
                    429 => "rate_limit_error",
                    503 => "api_error",
                    _ => error.GetProperty("type").GetString(),
                };
                Assert.Equal(expectedType, error.GetProperty("type").GetString());
                Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
                break;
            case "gemini":
                Assert.Equal(status, error.GetProperty("code").GetInt32());
                Assert.Equal(JsonValueKind.String, error.GetProperty("status").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
                break;
            case "azure-openai":
                Assert.Equal(JsonValueKind.String, error.GetProperty("code").ValueKind);
                Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
                break;
        }
    }

    private static async Task<List<SseEvent>> ReadAllEventsAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        {
            using var patience = new CancellationTokenSource(Patience);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, patience.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var reader = new SseReader(await response.Content.ReadAsStreamAsync(patience.Token));
            var events = new List<SseEvent>();
            while (await reader.NextAsync(patience.Token) is { } next)
            {
                events.Add(next);
            }

            return events;
        }
    }

    private sealed record SseEvent(string? Event, string Data);

    /// <summary>Just enough of an SSE parser to read the fakes: event and data fields, blank-line framing, LF or CRLF.</summary>
    private sealed class SseReader(Stream stream) : IDisposable
    {
        private readonly StreamReader _reader = new(stream, Encoding.UTF8);

        public async Task<SseEvent?> NextAsync(CancellationToken ct)
        {
            string? name = null;
            var data = new StringBuilder();
            var seen = false;
            while (await _reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0)
                {
                    if (seen)
                    {
                        return new SseEvent(name, data.ToString());
                    }

                    continue;
                }

                seen = true;
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Append(data.Length > 0 ? "\n" : "").Append(line["data:".Length..].TrimStart());
                }
            }

            return seen ? new SseEvent(name, data.ToString()) : null;
        }

        public async Task<SseEvent> ReadUntilAsync(Func<SseEvent, bool> match, CancellationToken ct)
        {
            while (await NextAsync(ct) is { } next)
            {
                if (match(next))
                {
                    return next;
                }
            }

            throw new InvalidOperationException("The stream ended before the expected event.");
        }

        public void Dispose() => _reader.Dispose();
    }
}
