using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class OpenAIUsageTests
{
    // Shaped like the API reference's chat.completion.chunk stream with stream_options.include_usage.
    private const string ChatStream = """
        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"x9"}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Here is \"usage\": {\"a\":1}"},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

        data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

        data: [DONE]
        """;

    // Azure opens with a prompt-filter chunk that also has choices: [] but no usage: it must stay.
    private const string AzureChatStream = """
        data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]}

        data: {"choices":[{"content_filter_results":{},"delta":{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1727000000,"id":"chatcmpl-A","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":"fp_878413d04d","usage":null}

        data: {"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1727000000,"id":"chatcmpl-A","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":"fp_878413d04d","usage":null}

        data: {"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1727000000,"id":"chatcmpl-A","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":"fp_878413d04d","usage":null}

        data: {"choices":[],"created":1727000000,"id":"chatcmpl-A","model":"gpt-4o-mini-2024-07-18","object":"chat.completion.chunk","system_fingerprint":"fp_878413d04d","usage":{"completion_tokens":7,"prompt_tokens":30,"total_tokens":37}}

        data: [DONE]
        """;

    // Shaped like the Responses API streaming reference: usage is null until response.completed.
    private const string ResponsesStream = """
        event: response.created
        data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec","object":"response","created_at":1741290958,"status":"in_progress","error":null,"model":"gpt-4.1-2025-04-14","output":[],"usage":null,"metadata":{}}}

        event: response.in_progress
        data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec","object":"response","status":"in_progress","usage":null}}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c5","output_index":0,"content_index":0,"delta":"Hi","logprobs":[]}

        event: response.completed
        data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec","object":"response","created_at":1741290958,"status":"completed","error":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c5","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi","annotations":[]}]}],"usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48},"user":null,"metadata":{}}}
        """;

    [Fact]
    public void Chat_stream_usage_comes_from_the_final_chunk_and_the_added_chunk_is_dropped()
    {
        var reader = new OpenAIUsageReader(stripUsageOnlyChunk: true);

        var kept = SseFeed.Run(reader, ChatStream);

        Assert.Equal(new TokenUsage(9, 12), reader.Usage);
        Assert.Equal(4, kept.Count);
        Assert.DoesNotContain(kept, e => e.Contains("\"prompt_tokens\""));
        Assert.Equal("data: [DONE]", kept[^1]);
    }

    [Fact]
    public void Chat_stream_usage_chunk_is_kept_when_the_client_asked_for_it()
    {
        var reader = new OpenAIUsageReader(stripUsageOnlyChunk: false);

        var kept = SseFeed.Run(reader, ChatStream);

        Assert.Equal(new TokenUsage(9, 12), reader.Usage);
        Assert.Equal(5, kept.Count);
    }

    [Fact]
    public void Azure_chat_stream_keeps_the_prompt_filter_chunk_and_drops_only_the_usage_chunk()
    {
        var reader = new AzureOpenAIAdapter().CreateUsageReader(new RequestPlan(default, "gpt-4o-mini", true, StripUsageOnlyChunk: true));

        var kept = SseFeed.Run(reader, AzureChatStream);

        Assert.Equal(new TokenUsage(30, 7), reader.Usage);
        Assert.Equal(5, kept.Count);
        Assert.Contains("prompt_filter_results", kept[0]);
        Assert.DoesNotContain(kept, e => e.Contains("\"total_tokens\""));
    }

    [Fact]
    public void A_chat_stream_without_usage_reports_none()
    {
        var reader = new OpenAIUsageReader(stripUsageOnlyChunk: false);

        var kept = SseFeed.Run(reader, """
            data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}

            : keep-alive

            data: [DONE]
            """);

        Assert.Equal(3, kept.Count);
        Assert.Equal(default, reader.Usage);
        Assert.Null(reader.Usage.InputTokens);
    }

    [Fact]
    public void Responses_stream_usage_comes_from_response_completed()
    {
        var reader = new OpenAIAdapter().CreateUsageReader(new RequestPlan(default, "gpt-4.1", true, false));

        var kept = SseFeed.Run(reader, ResponsesStream);

        Assert.Equal(new TokenUsage(37, 11), reader.Usage);
        Assert.Equal(4, kept.Count);
    }

    [Fact]
    public void Responses_stream_events_are_never_dropped_even_when_stripping()
    {
        var reader = new OpenAIUsageReader(stripUsageOnlyChunk: true);

        Assert.Equal(4, SseFeed.Run(reader, ResponsesStream).Count);
        Assert.Equal(new TokenUsage(37, 11), reader.Usage);
    }

    [Fact]
    public void Chat_completion_body_usage()
    {
        var usage = SseFeed.Json(new OpenAIUsageReader(false), """
            {
              "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
              "object": "chat.completion",
              "created": 1741570283,
              "model": "gpt-4o-2024-08-06",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "The image shows a wooden boardwalk.", "refusal": null, "annotations": []}, "logprobs": null, "finish_reason": "stop"}],
              "usage": {
                "prompt_tokens": 1117,
                "completion_tokens": 46,
                "total_tokens": 1163,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
              },
              "service_tier": "default",
              "system_fingerprint": "fp_fc9f1d7035"
            }
            """);

        Assert.Equal(new TokenUsage(1117, 46), usage);
    }

    [Fact]
    public void Responses_body_usage()
    {
        var usage = SseFeed.Json(new OpenAIUsageReader(false), """
            {"id":"resp_67ccd2bed1ec8190b14f964abc054267","object":"response","created_at":1741476542,"status":"completed","error":null,"model":"gpt-4.1-2025-04-14","output":[{"type":"message","id":"msg_67ccd2bf17f0819081ff3bb2cf6508e6","status":"completed","role":"assistant","content":[{"type":"output_text","text":"In a peaceful grove...","annotations":[]}]}],"reasoning":{"effort":null,"summary":null},"usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123},"user":null,"metadata":{}}
            """);

        Assert.Equal(new TokenUsage(36, 87), usage);
    }

    [Fact]
    public void Embeddings_body_usage_has_input_only()
    {
        var usage = SseFeed.Json(new OpenAIUsageReader(false), """
            {"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292,-0.0028842222],"index":0}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}
            """);

        Assert.Equal(8, usage.InputTokens);
        Assert.Null(usage.OutputTokens);
        Assert.Equal(8, usage.Total);
    }

    [Theory]
    [InlineData("""{"object":"list","data":[{"id":"gpt-4o","object":"model"}]}""")]
    [InlineData("""{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""")]
    [InlineData("""{"usage":{"prompt_tokens":5""")]
    [InlineData("not json")]
    [InlineData("")]
    public void Bodies_without_usage_report_none(string body) =>
        Assert.Equal(default, SseFeed.Json(new OpenAIUsageReader(false), body));
}
