using System.Text;
using System.Text.Json.Nodes;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class StreamUsageRewriteTests
{
    private const string ChatRequest = """
        {
          "model": "gpt-4o-mini",
          "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say \"hi\"\n"}],
          "temperature": 0.2,
          "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"stream": {"type": "boolean"}}}}}],
          "stream": true
        }
        """;

    public static TheoryData<string, string, string?> ChatPaths => new()
    {
        { "openai", "v1/chat/completions", null },
        { "azure-openai", "openai/v1/chat/completions", null },
        { "azure-openai", "openai/deployments/gpt-4o-mini/chat/completions", "?api-version=2024-10-21" },
        { "azure-openai", "openai/deployments/gpt-4o-mini/chat/completions", "?api-version=2025-04-01-preview" },
        { "azure-openai", "openai/deployments/gpt-4o-mini/chat/completions", "?api-version=2024-08-01-preview" },
    };

    [Theory]
    [MemberData(nameof(ChatPaths))]
    public void A_chat_stream_without_usage_is_asked_for_it_and_keeps_every_other_field(string provider, string path, string? query)
    {
        var plan = RequestPlanTests.Plan(provider, "POST", path, ChatRequest, query);

        Assert.True(plan.Streaming);
        Assert.True(plan.StripUsageOnlyChunk);
        var sent = Parse(plan);
        var original = JsonNode.Parse(ChatRequest)!.AsObject();
        original["stream_options"] = new JsonObject { ["include_usage"] = true };
        Assert.True(JsonNode.DeepEquals(original, sent), sent.ToJsonString());
    }

    [Fact]
    public void Other_stream_options_members_are_kept()
    {
        var plan = RequestPlanTests.Plan("openai", "POST", "v1/chat/completions",
            """{"model":"gpt-4o","messages":[],"stream":true,"stream_options":{"include_obfuscation":false}}""");

        Assert.True(plan.StripUsageOnlyChunk);
        Assert.Equal("""{"model":"gpt-4o","messages":[],"stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false}}""", Text(plan));
    }

    [Fact]
    public void A_false_include_usage_is_turned_on_in_place()
    {
        var plan = RequestPlanTests.Plan("openai", "POST", "v1/chat/completions",
            """{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":true, "include_usage" : false},"n":1}""");

        Assert.True(plan.StripUsageOnlyChunk);
        Assert.Equal("""{"model":"gpt-4o","stream":true,"stream_options":{"include_obfuscation":true, "include_usage" : true},"n":1}""", Text(plan));
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","stream":true,"stream_options":null}""")]
    [InlineData("""{"model":"gpt-4o","stream":true,"stream_options":{}}""")]
    [InlineData("""{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":null}}""")]
    public void Null_or_empty_stream_options_become_an_include_usage_object(string body)
    {
        var plan = RequestPlanTests.Plan("openai", "POST", "v1/chat/completions", body);

        Assert.True(plan.StripUsageOnlyChunk);
        Assert.Equal("""{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}""", Text(plan));
    }

    [Fact]
    public void The_last_of_repeated_stream_options_is_the_one_rewritten()
    {
        var plan = RequestPlanTests.Plan("openai", "POST", "v1/chat/completions",
            """{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"stream_options":{"x":1}}""");

        Assert.True(plan.StripUsageOnlyChunk);
        Assert.Equal("""{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true,"x":1}}""", Text(plan));
    }

    [Theory]
    [InlineData("openai", "v1/chat/completions", """{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}""", null)]
    [InlineData("openai", "v1/chat/completions", """{"model":"gpt-4o","stream":false}""", null)]
    [InlineData("openai", "v1/chat/completions", """{"model":"gpt-4o"}""", null)]
    [InlineData("openai", "v1/responses", """{"model":"gpt-4o","input":"Hi","stream":true}""", null)]
    [InlineData("openai", "v1/completions", """{"model":"gpt-3.5-turbo-instruct","prompt":"Hi","stream":true}""", null)]
    [InlineData("openai", "v1/chat/completions/chatcmpl-abc", """{"metadata":{"a":"b"},"stream":true}""", null)]
    [InlineData("anthropic", "v1/messages", """{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[],"stream":true}""", null)]
    [InlineData("azure-openai", "openai/deployments/gpt-4o/chat/completions", """{"messages":[],"stream":true}""", "?api-version=2024-06-01")]
    [InlineData("azure-openai", "openai/deployments/gpt-4o/chat/completions", """{"messages":[],"stream":true}""", "?api-version=2024-07-01-preview")]
    [InlineData("azure-openai", "openai/deployments/gpt-4o/chat/completions", """{"messages":[],"stream":true}""", "")]
    [InlineData("azure-openai", "openai/deployments/gpt-4o/chat/completions", """{"messages":[],"stream":true}""", null)]
    [InlineData("azure-openai", "openai/deployments/gpt-4o/chat/completions", """{"messages":[],"stream":true}""", "?api-version=2024-10-21&api-version=2023-05-15")]
    public void No_rewrite_when_usage_is_asked_for_not_streaming_not_chat_or_not_accepted(string provider, string path, string body, string? query)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var plan = ProvidersUnderTest.Get(provider).PlanRequest("POST", path, query, bytes);

        Assert.False(plan.StripUsageOnlyChunk);
        Assert.Equal(body, Text(plan));
    }

    [Fact]
    public void Azure_without_the_query_overload_leaves_deployment_streams_alone_but_asks_on_the_v1_api()
    {
        var adapter = ProvidersUnderTest.Get("azure-openai");
        var body = Encoding.UTF8.GetBytes("""{"model":"gpt-4o","messages":[],"stream":true}""");

        Assert.False(adapter.PlanRequest("POST", "openai/deployments/gpt-4o/chat/completions", body).StripUsageOnlyChunk);
        Assert.True(adapter.PlanRequest("POST", "openai/v1/chat/completions", body).StripUsageOnlyChunk);
    }

    [Theory]
    [InlineData("?api-version=2024-10-21", true)]
    [InlineData("api-version=2024-08-01-preview", true)]
    [InlineData("?foo=bar&api-version=2025-01-01-preview", true)]
    [InlineData("?api-version=preview", true)]
    [InlineData("?api-version=2024-06-01", false)]
    [InlineData("?api-version=2024-02-15-preview", false)]
    [InlineData("?api-version=garbage", false)]
    [InlineData("?xapi-version=2024-10-21", false)]
    public void Azure_api_versions_from_2024_08_01_accept_stream_options(string query, bool accepts) =>
        Assert.Equal(accepts, AzureOpenAIAdapter.AcceptsStreamOptions(query));

    private static JsonObject Parse(RequestPlan plan) => JsonNode.Parse(plan.UpstreamBody.Span)!.AsObject();

    private static string Text(RequestPlan plan) => Encoding.UTF8.GetString(plan.UpstreamBody.Span);
}
