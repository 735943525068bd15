using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class GeminiUsageTests
{
    [Fact]
    public void Stream_usage_is_the_last_usage_metadata_seen()
    {
        // streamGenerateContent?alt=sse: each chunk carries usageMetadata so far; Google ends events with CRLF CRLF.
        var transcript =
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"totalTokenCount\": 8,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 8}]},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"mAitaK-nHp2B1MkP7oKV2Qk\"}\r\n\r\n" +
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" quick brown fox\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 20,\"totalTokenCount\": 28},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"mAitaK-nHp2B1MkP7oKV2Qk\"}\r\n\r\n" +
            "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" jumps.\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 8,\"candidatesTokenCount\": 45,\"totalTokenCount\": 53,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 8}],\"candidatesTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 45}]},\"modelVersion\": \"gemini-2.0-flash\",\"responseId\": \"mAitaK-nHp2B1MkP7oKV2Qk\"}\r\n\r\n";
        var reader = new GeminiAdapter().CreateUsageReader(new RequestPlan(default, "gemini-2.0-flash", true, false));

        var kept = SseFeed.Run(reader, transcript);

        Assert.Equal(3, kept.Count);
        Assert.Equal(new TokenUsage(8, 45), reader.Usage);
    }

    [Fact]
    public void Thinking_tokens_count_as_output_and_tool_prompt_tokens_as_input()
    {
        var reader = new GeminiUsageReader();

        SseFeed.Run(reader, """
            data: {"candidates":[{"content":{"parts":[{"text":"42"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":30,"toolUsePromptTokenCount":5,"thoughtsTokenCount":120,"cachedContentTokenCount":4,"totalTokenCount":167},"modelVersion":"gemini-2.5-flash"}
            """);

        Assert.Equal(new TokenUsage(17, 150), reader.Usage);
    }

    [Fact]
    public void GenerateContent_body_usage()
    {
        var usage = SseFeed.Json(new GeminiUsageReader(), """
            {
              "candidates": [{"content": {"parts": [{"text": "AI learns patterns from data."}], "role": "model"}, "finishReason": "STOP", "avgLogprobs": -0.12}],
              "usageMetadata": {"promptTokenCount": 11, "candidatesTokenCount": 7, "totalTokenCount": 18, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}]},
              "modelVersion": "gemini-2.0-flash",
              "responseId": "mAitaK-nHp2B1MkP7oKV2Qk"
            }
            """);

        Assert.Equal(new TokenUsage(11, 7), usage);
    }

    [Fact]
    public void Stream_without_alt_sse_is_one_json_array_and_its_last_usage_wins()
    {
        var usage = SseFeed.Json(new GeminiUsageReader(), """
            [{"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":1,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash"}
            ,
            {"candidates":[{"content":{"parts":[{"text":"B"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":6,"candidatesTokenCount":9,"totalTokenCount":15},"modelVersion":"gemini-2.5-flash"}
            ]
            """);

        Assert.Equal(new TokenUsage(6, 9), usage);
    }

    [Theory]
    [InlineData("""{"totalTokens": 31}""")]
    [InlineData("""{"embeddings":[{"values":[0.01,0.02]},{"values":[0.03,0.04]}]}""")]
    [InlineData("""{"embedding": {"values": [0.013168523, -0.008711934]}}""")]
    [InlineData("""{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}""")]
    [InlineData("""{"usageMetadata": {"promptTokenCount": 8""")]
    public void Bodies_without_usage_report_none(string body) =>
        Assert.Equal(default, SseFeed.Json(new GeminiUsageReader(), body));
}
