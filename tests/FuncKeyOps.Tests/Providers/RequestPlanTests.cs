using System.Text;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

public class RequestPlanTests
{
    [Theory]
    [InlineData("openai", "v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}""", "gpt-4o-mini", false)]
    [InlineData("openai", "v1/responses", """{"model":"gpt-4.1","input":"Hi","stream":true}""", "gpt-4.1", true)]
    [InlineData("openai", "v1/embeddings", """{"input":["a","b"],"model":"text-embedding-3-small","encoding_format":"base64"}""", "text-embedding-3-small", false)]
    [InlineData("anthropic", "v1/messages", """{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}],"stream":true}""", "claude-sonnet-4-5-20250929", true)]
    [InlineData("anthropic", "v1/messages", """{"max_tokens":1024,"messages":[],"model":"claude-haiku-4-5-20251001","stream":false}""", "claude-haiku-4-5-20251001", false)]
    [InlineData("azure-openai", "openai/v1/responses", """{"model":"gpt-4o","input":"Hi","stream":true}""", "gpt-4o", true)]
    [InlineData("azure-openai", "openai/deployments/my-gpt4o/chat/completions", """{"messages":[{"role":"user","content":"Hi"}]}""", "my-gpt4o", false)]
    [InlineData("azure-openai", "openai/deployments/embed-small/embeddings", """{"model":"ignored","input":"Hi"}""", "embed-small", false)]
    public void Model_and_streaming_come_from_the_body_or_the_path(string provider, string path, string body, string model, bool streaming)
    {
        var plan = Plan(provider, "POST", path, body);

        Assert.Equal(model, plan.Model);
        Assert.Equal(streaming, plan.Streaming);
    }

    [Theory]
    [InlineData("v1beta/models/gemini-2.0-flash:generateContent", "gemini-2.0-flash", false)]
    [InlineData("v1beta/models/gemini-2.0-flash:streamGenerateContent", "gemini-2.0-flash", true)]
    [InlineData("v1beta/models/gemini-2.5-pro:countTokens", "gemini-2.5-pro", false)]
    [InlineData("v1beta/models/text-embedding-004:embedContent", "text-embedding-004", false)]
    [InlineData("v1/models/gemini-2.5-flash:generateContent", "gemini-2.5-flash", false)]
    [InlineData("/v1beta/models/gemini-2.5-flash:streamGenerateContent", "gemini-2.5-flash", true)]
    [InlineData("v1beta/tunedModels/my-tuned-abc123:generateContent", "tunedModels/my-tuned-abc123", false)]
    [InlineData("v1beta/models/gemini-2.0-flash", "gemini-2.0-flash", false)]
    [InlineData("v1beta/models", null, false)]
    [InlineData("v1beta/files/abc:download", null, false)]
    [InlineData("v1beta/models/a/b:generateContent", null, false)]
    public void Gemini_reads_model_and_streaming_from_the_path(string path, string? model, bool streaming)
    {
        var plan = Plan("gemini", "POST", path, """{"contents":[{"parts":[{"text":"Hi"}]}],"stream":true,"model":"not-this"}""");

        Assert.Equal(model, plan.Model);
        Assert.Equal(streaming, plan.Streaming);
        Assert.False(plan.StripUsageOnlyChunk);
    }

    [Theory]
    [InlineData("""{"requests":[{"model":"models/text-embedding-004","content":{}},{"model":"models/text-embedding-004","content":{}}]}""", "text-embedding-004")]
    [InlineData("""{"requests":[{"model":"models/text-embedding-004"},{"model":"models/gemini-embedding-001"}]}""", "gemini-embedding-001")]
    [InlineData("""{"requests":[{"model":"models/text-embedding-004","model":"models/other-model"}]}""", "other-model")]
    [InlineData("""{"requests":[{"model":"models/text-embedding-004"}],"requests":[{"model":"models/other-model"}]}""", "other-model")]
    [InlineData("""{"requests":[{"model":"tunedModels/text-embedding-004"}]}""", "tunedModels/text-embedding-004")]
    [InlineData("""{"requests":[{"content":{}},{"model":123}]}""", "text-embedding-004")]
    [InlineData("""{"requests":[{"model":"models/other-model""", "text-embedding-004")]
    public void Gemini_batchEmbedContents_is_judged_by_any_request_model_that_is_not_the_paths(string body, string model)
    {
        var plan = Plan("gemini", "POST", "v1beta/models/text-embedding-004:batchEmbedContents", body);

        Assert.Equal(model, plan.Model);
        Assert.Equal(body, Encoding.UTF8.GetString(plan.UpstreamBody.Span));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("azure-openai")]
    public void Malformed_or_non_object_bodies_go_upstream_unchanged_without_a_model(string provider)
    {
        foreach (var body in new[]
        {
            """{"model":"gpt-4o","stream":true,""",
            """{"model":"gpt-4o","stream":true} trailing""",
            """["model","gpt-4o"]""",
            "model=gpt-4o&stream=true",
            "\"gpt-4o\"",
            "",
        })
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var plan = ProvidersUnderTest.Get(provider).PlanRequest("POST", "v1/chat/completions", bytes);

            Assert.Null(plan.Model);
            Assert.False(plan.Streaming);
            Assert.False(plan.StripUsageOnlyChunk);
            Assert.True(plan.UpstreamBody.Span.SequenceEqual(bytes), body);
        }
    }

    [Fact]
    public void An_empty_GET_has_no_model_and_does_not_stream()
    {
        foreach (var adapter in ProvidersUnderTest.Catalog.All)
        {
            var plan = adapter.PlanRequest("GET", adapter.Name == "gemini" ? "v1beta/models" : "v1/models", ReadOnlyMemory<byte>.Empty);

            Assert.Null(plan.Model);
            Assert.False(plan.Streaming);
            Assert.Equal(0, plan.UpstreamBody.Length);
        }
    }

    [Theory]
    [InlineData("openai", "GET", "v1/models", ModelScope.None)]
    [InlineData("openai", "GET", "v1/models/gpt-4o", ModelScope.None)]
    [InlineData("openai", "POST", "v1/chat/completions", ModelScope.Named)]
    [InlineData("openai", "POST", "/v1/responses/", ModelScope.Named)]
    [InlineData("openai", "GET", "v1/chat/completions", ModelScope.Unknown)]
    [InlineData("openai", "POST", "v1/batches", ModelScope.Unknown)]
    [InlineData("openai", "POST", "v1/audio/transcriptions", ModelScope.Unknown)]
    [InlineData("openai", "POST", "v1/threads/runs", ModelScope.Unknown)]
    [InlineData("anthropic", "POST", "v1/messages/count_tokens", ModelScope.Named)]
    [InlineData("anthropic", "GET", "v1/models/claude-haiku-4-5", ModelScope.None)]
    [InlineData("anthropic", "POST", "v1/messages/batches", ModelScope.Unknown)]
    [InlineData("anthropic", "GET", "v1/files", ModelScope.Unknown)]
    [InlineData("gemini", "GET", "v1beta/models", ModelScope.None)]
    [InlineData("gemini", "POST", "v1beta/models/gemini-2.0-flash:countTokens", ModelScope.Named)]
    [InlineData("gemini", "POST", "upload/v1beta/files", ModelScope.Unknown)]
    [InlineData("gemini", "POST", "v1beta/cachedContents", ModelScope.Unknown)]
    [InlineData("azure-openai", "GET", "openai/models", ModelScope.None)]
    [InlineData("azure-openai", "GET", "openai/v1/models", ModelScope.None)]
    [InlineData("azure-openai", "POST", "openai/v1/responses", ModelScope.Named)]
    [InlineData("azure-openai", "POST", "openai/deployments/embed/embeddings", ModelScope.Named)]
    [InlineData("azure-openai", "POST", "openai/v1/files", ModelScope.Unknown)]
    [InlineData("azure-openai", "POST", "openai/batches", ModelScope.Unknown)]
    public void Each_adapter_says_which_paths_name_their_model(string provider, string method, string path, ModelScope scope)
    {
        Assert.Equal(scope, Plan(provider, method, path, """{"model":"m","input":"Hi"}""").ModelScope);
    }

    [Fact]
    public void A_repeated_model_member_leaves_the_model_unreadable()
    {
        // Providers' parsers differ on which one wins, so neither is the model the call runs.
        var plan = Plan("openai", "POST", "v1/responses", """{"model":"gpt-4o-mini","input":"Hi","model":"o3-pro","stream":false,"stream":true}""");

        Assert.Null(plan.Model);
        Assert.Equal(ModelScope.Unreadable, plan.ModelScope);
        Assert.True(plan.Streaming);
    }

    [Fact]
    public void Non_string_models_and_non_true_streams_read_as_absent()
    {
        var plan = Plan("anthropic", "POST", "v1/messages", """{"model":{"id":"claude"},"stream":"true","messages":[]}""");

        Assert.Null(plan.Model);
        Assert.False(plan.Streaming);
    }

    [Fact]
    public void Nested_model_and_stream_members_are_not_the_requests()
    {
        var plan = Plan("openai", "POST", "v1/responses", """{"input":[{"role":"user","content":"Hi","model":"x","stream":true}],"model":"gpt-4.1","metadata":{"stream":"true"}}""");

        Assert.Equal("gpt-4.1", plan.Model);
        Assert.False(plan.Streaming);
    }

    [Fact]
    public void Escaped_member_names_are_read_like_any_other()
    {
        var plan = Plan("openai", "POST", "v1/responses", """{"mod\u0065l":"gpt-4o","str\u0065am":true}""");

        Assert.Equal("gpt-4o", plan.Model);
        Assert.True(plan.Streaming);
    }

    [Fact]
    public void Validation_paths_list_models()
    {
        Assert.Equal("v1/models", ProvidersUnderTest.Get("openai").ValidationPath);
        Assert.Equal("v1/models", ProvidersUnderTest.Get("anthropic").ValidationPath);
        Assert.Equal("v1beta/models", ProvidersUnderTest.Get("gemini").ValidationPath);
        Assert.Equal("openai/models?api-version=2024-10-21", ProvidersUnderTest.Get("azure-openai").ValidationPath);
    }

    internal static RequestPlan Plan(string provider, string method, string path, string body, string? query = null) =>
        ProvidersUnderTest.Get(provider).PlanRequest(method, path, query, Encoding.UTF8.GetBytes(body));
}

internal static class ProvidersUnderTest
{
    public static readonly ProviderCatalog Catalog = ClientKeyTests.Catalog();

    public static IProviderAdapter Get(string name) => Catalog.TryGet(name, out var adapter) ? adapter : throw new ArgumentException(name);
}
