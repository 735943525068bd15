using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class AnthropicUsageTests
{
    // The Messages streaming reference's event flow.
    private const string Stream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"! \"usage\":{}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

        event: message_stop
        data: {"type":"message_stop"}
        """;

    [Fact]
    public void Stream_input_comes_from_message_start_and_output_from_the_last_message_delta()
    {
        var reader = new AnthropicAdapter().CreateUsageReader(new RequestPlan(default, "claude-sonnet-4-5-20250929", true, false));

        var kept = SseFeed.Run(reader, Stream);

        Assert.Equal(new TokenUsage(25, 15), reader.Usage);
        Assert.Equal(8, kept.Count);
    }

    [Fact]
    public void Cache_tokens_count_as_input()
    {
        var reader = new AnthropicUsageReader();

        SseFeed.Run(reader, """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-opus-4-1-20250805","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":300,"cache_creation":{"ephemeral_5m_input_tokens":2000,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":42}}
            """);

        Assert.Equal(new TokenUsage(2310, 42), reader.Usage);
    }

    [Fact]
    public void Cumulative_message_delta_input_replaces_rather_than_adds()
    {
        var reader = new AnthropicUsageReader();

        SseFeed.Run(reader, """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","usage":{"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":10,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":20,"server_tool_use":{"web_search_requests":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":12,"cache_creation_input_tokens":2000,"cache_read_input_tokens":0,"output_tokens":55}}
            """);

        Assert.Equal(new TokenUsage(2012, 55), reader.Usage);
    }

    [Fact]
    public void Error_events_and_comments_pass_through()
    {
        var reader = new AnthropicUsageReader();

        var kept = SseFeed.Run(reader, """
            : comment

            event: error
            data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            """);

        Assert.Equal(2, kept.Count);
        Assert.Equal(default, reader.Usage);
    }

    [Fact]
    public void Message_body_usage_adds_cache_reads_and_writes_to_input()
    {
        var usage = SseFeed.Json(new AnthropicUsageReader(), """
            {
              "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
              "type": "message",
              "role": "assistant",
              "model": "claude-sonnet-4-5-20250929",
              "content": [{"type": "text", "text": "Hi! My name is Claude."}],
              "stop_reason": "end_turn",
              "stop_sequence": null,
              "usage": {"input_tokens": 2095, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1800, "output_tokens": 503}
            }
            """);

        Assert.Equal(new TokenUsage(3895, 503), usage);
    }

    [Fact]
    public void Message_body_without_cache_fields()
    {
        var usage = SseFeed.Json(new AnthropicUsageReader(), """{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-haiku-4-5","usage":{"input_tokens":12,"output_tokens":6}}""");

        Assert.Equal(new TokenUsage(12, 6), usage);
    }

    [Theory]
    [InlineData("""{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}""")]
    [InlineData("""{"data":[{"type":"model","id":"claude-sonnet-4-5-20250929"}],"has_more":false}""")]
    [InlineData("{")]
    // count_tokens: the prompt's size, not tokens consumed; it must not count against a budget.
    [InlineData("""{"input_tokens":2095}""")]
    public void Bodies_without_usage_report_none(string body) =>
        Assert.Equal(default, SseFeed.Json(new AnthropicUsageReader(), body));
}
