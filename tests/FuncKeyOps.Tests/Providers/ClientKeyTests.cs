using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Tests.Providers;

public class ClientKeyTests
{
    private const string RelayKey = "fko_k1_secretvalue";

    [Fact]
    public void OpenAI_reads_the_bearer_token_the_SDKs_send()
    {
        var adapter = new OpenAIAdapter();

        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("Authorization", "Bearer " + RelayKey))));
        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("Authorization", "bearer  " + RelayKey + " "))));
        Assert.Null(adapter.ReadClientKey(Request(("Authorization", "Basic " + RelayKey))));
        Assert.Null(adapter.ReadClientKey(Request(("Authorization", "Bearer "))));
        Assert.Null(adapter.ReadClientKey(Request(("x-api-key", RelayKey))));
        Assert.Null(adapter.ReadClientKey(Request()));
    }

    [Fact]
    public void Anthropic_reads_x_api_key_or_an_auth_token()
    {
        var adapter = new AnthropicAdapter();

        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("x-api-key", RelayKey), ("anthropic-version", "2023-06-01"))));
        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("Authorization", "Bearer " + RelayKey))));
        // Like the SDK, the API key wins when both are present.
        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("x-api-key", RelayKey), ("Authorization", "Bearer other"))));
        Assert.Null(adapter.ReadClientKey(Request(("api-key", RelayKey))));
    }

    [Fact]
    public void Gemini_reads_the_goog_header_or_the_key_query_parameter()
    {
        var adapter = new GeminiAdapter();

        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("x-goog-api-key", RelayKey))));
        Assert.Equal(RelayKey, adapter.ReadClientKey(WithQuery([], "?alt=sse&key=" + RelayKey)));
        Assert.Equal(RelayKey, adapter.ReadClientKey(WithQuery([("x-goog-api-key", RelayKey)], "?key=other")));
        Assert.Null(adapter.ReadClientKey(WithQuery([], "?alt=sse")));
        Assert.Null(adapter.ReadClientKey(Request(("Authorization", "Bearer " + RelayKey))));
    }

    [Fact]
    public void Azure_reads_api_key_or_a_bearer_token()
    {
        var adapter = new AzureOpenAIAdapter();

        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("api-key", RelayKey))));
        Assert.Equal(RelayKey, adapter.ReadClientKey(Request(("Authorization", "Bearer " + RelayKey))));
        Assert.Null(adapter.ReadClientKey(Request(("x-api-key", RelayKey))));
    }

    [Fact]
    public void A_repeated_key_header_is_ambiguous_and_reads_as_none()
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["x-api-key"] = new(["fko_a_one", "fko_b_two"]);

        Assert.Null(new AnthropicAdapter().ReadClientKey(context.Request));
    }

    public static TheoryData<string> Adapters => ["openai", "anthropic", "gemini", "azure-openai"];

    [Theory]
    [MemberData(nameof(Adapters))]
    public void Every_adapter_withholds_every_credential_header_whatever_the_provider(string name)
    {
        var adapter = Catalog().TryGet(name, out var found) ? found : throw new InvalidOperationException(name);

        foreach (var header in new[] { "Authorization", "authorization", "X-Api-Key", "x-api-key", "api-key", "Api-Key", "x-goog-api-key", "X-Goog-Api-Key", "Proxy-Authorization" })
            Assert.True(adapter.IsCredentialHeader(header), header);
        foreach (var header in new[] { "anthropic-version", "content-type", "openai-beta", "x-goog-api-client", "api-version" })
            Assert.False(adapter.IsCredentialHeader(header), header);

        Assert.True(adapter.IsCredentialQueryParameter("key"));
        Assert.True(adapter.IsCredentialQueryParameter("access_token"));
        Assert.False(adapter.IsCredentialQueryParameter("api-version"));
        Assert.False(adapter.IsCredentialQueryParameter("alt"));
    }

    [Fact]
    public void Provider_keys_go_upstream_in_each_providers_own_header()
    {
        const string providerKey = "sk-provider-value";

        var openAI = Upstream(new OpenAIAdapter(), providerKey);
        Assert.Equal("Bearer", openAI.Headers.Authorization?.Scheme);
        Assert.Equal(providerKey, openAI.Headers.Authorization?.Parameter);

        Assert.Equal([providerKey], Upstream(new AnthropicAdapter(), providerKey).Headers.GetValues("x-api-key"));
        Assert.Equal([providerKey], Upstream(new AzureOpenAIAdapter(), providerKey).Headers.GetValues("api-key"));

        var gemini = Upstream(new GeminiAdapter(), providerKey);
        Assert.Equal([providerKey], gemini.Headers.GetValues("x-goog-api-key"));
        Assert.DoesNotContain(providerKey, gemini.RequestUri!.ToString());
    }

    [Fact]
    public void Applying_a_key_twice_leaves_one_value()
    {
        var upstream = new HttpRequestMessage(HttpMethod.Post, "https://example.test/v1/messages");
        var adapter = new AnthropicAdapter();

        adapter.ApplyProviderKey(upstream, "first");
        adapter.ApplyProviderKey(upstream, "second");

        Assert.Equal(["second"], upstream.Headers.GetValues("x-api-key"));
    }

    internal static ProviderCatalog Catalog() => new([new OpenAIAdapter(), new AnthropicAdapter(), new GeminiAdapter(), new AzureOpenAIAdapter()]);

    private static HttpRequestMessage Upstream(IProviderAdapter adapter, string key)
    {
        var upstream = new HttpRequestMessage(HttpMethod.Post, "https://example.test/v1beta/models/gemini-2.0-flash:generateContent");
        adapter.ApplyProviderKey(upstream, key);
        return upstream;
    }

    private static HttpRequest Request(params (string Name, string Value)[] headers) => WithQuery(headers, query: null);

    private static HttpRequest WithQuery((string Name, string Value)[] headers, string? query)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
            context.Request.Headers[name] = value;
        if (query is not null)
            context.Request.QueryString = new QueryString(query);
        return context.Request;
    }
}
