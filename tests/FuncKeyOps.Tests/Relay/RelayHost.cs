using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// The Server host relaying to the four fake providers: a vault seeded with one provider key per provider and the
/// admin key, the provider keys registered and activated, and a relay key allowed on every provider.
/// </summary>
internal sealed class RelayHost : IAsyncDisposable
{
    public const string AdminKey = "fake-admin-key-0123456789abcdef";

    private RelayHost(ServerHost server, FakeProviderSet fakes)
    {
        Server = server;
        Fakes = fakes;
    }

    public ServerHost Server { get; }
    public FakeProviderSet Fakes { get; }
    public FakeOpenAI OpenAI => Fakes.OpenAI;
    public FakeAnthropic Anthropic => Fakes.Anthropic;
    public FakeGemini Gemini => Fakes.Gemini;
    public FakeAzureOpenAI Azure => Fakes.Azure;
    public IReadOnlyDictionary<string, string> ProviderKeyValues => Fakes.Keys;
    public HttpClient Client => Server.Client;
    public Uri BaseUri => Server.Client.BaseAddress!;
    public IServiceProvider Services => Server.App.Services;

    /// <summary>The relay base URL an SDK is pointed at for a provider.</summary>
    public Uri RelayBase(string provider) => new(BaseUri, $"api/relay/{provider}/");

    public static async Task<RelayHost> StartAsync(string? storageConnectionString = null, IDictionary<string, string?>? settings = null, TimeProvider? time = null, Action<WebApplicationBuilder>? configure = null)
    {
        var fakes = await FakeProviderSet.StartAsync();

        var vault = await TestVault.StartAsync();
        vault.SetSecretDirect("fko-admin-key", AdminKey);
        var config = new Dictionary<string, string?>
        {
            ["Relay:RetryBaseDelay"] = "00:00:00.001",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            config[key] = value;
        var server = await ServerHost.StartAsync(storageConnectionString, config, vault, time, configure);

        foreach (var (provider, fake) in fakes.All)
            await ActiveProviderKeys.RegisterAsync(server, $"{provider}-main", provider, fake.BaseUri, fakes.Keys[provider]);
        return new RelayHost(server, fakes);
    }

    public async Task<(RelayKey Key, string Secret)> CreateRelayKeyAsync(RelayKeySpec? spec = null)
    {
        var service = Services.GetRequiredService<RelayKeyService>();
        return await service.CreateAsync(spec ?? new RelayKeySpec { Tenant = "tests", Name = "everything" });
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Fakes.DisposeAsync();
    }
}
