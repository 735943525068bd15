namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// The four fake providers, started together, each accepting a fresh key of its own: what every host under test
/// (the Server host, the Functions app, <c>build.sh dev</c>) relays to.
/// </summary>
public sealed class FakeProviderSet : IAsyncDisposable
{
    private FakeProviderSet(FakeOpenAI openAI, FakeAnthropic anthropic, FakeGemini gemini, FakeAzureOpenAI azure, IReadOnlyDictionary<string, string> keys)
    {
        OpenAI = openAI;
        Anthropic = anthropic;
        Gemini = gemini;
        Azure = azure;
        Keys = keys;
    }

    public FakeOpenAI OpenAI { get; }
    public FakeAnthropic Anthropic { get; }
    public FakeGemini Gemini { get; }
    public FakeAzureOpenAI Azure { get; }

    /// <summary>The key each fake accepts, by provider name (<c>openai</c>, <c>anthropic</c>, <c>gemini</c>, <c>azure-openai</c>).</summary>
    public IReadOnlyDictionary<string, string> Keys { get; }

    /// <summary>Each fake with its provider name, in the order above.</summary>
    public IReadOnlyList<(string Provider, FakeProvider Fake)> All => [("openai", OpenAI), ("anthropic", Anthropic), ("gemini", Gemini), ("azure-openai", Azure)];

    public static async Task<FakeProviderSet> StartAsync()
    {
        var keys = new Dictionary<string, string>();
        foreach (var provider in new[] { "openai", "anthropic", "gemini", "azure-openai" })
            keys[provider] = $"fake-{provider}-" + Guid.NewGuid().ToString("N");
        return new FakeProviderSet(
            await FakeOpenAI.StartAsync(keys["openai"]),
            await FakeAnthropic.StartAsync(keys["anthropic"]),
            await FakeGemini.StartAsync(keys["gemini"]),
            await FakeAzureOpenAI.StartAsync(keys["azure-openai"]),
            keys);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, fake) in All)
            await fake.DisposeAsync();
    }
}
