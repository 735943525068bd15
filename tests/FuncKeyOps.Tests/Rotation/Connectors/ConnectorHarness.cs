using System.Net.Http.Headers;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>
/// The connectors as the library registers them (<see cref="ConnectorsRegistration.AddKeyConnectors"/>), reading admin
/// keys through the real SecretClient from a test vault, with every log line captured unredacted so a leak shows.
/// </summary>
internal sealed class ConnectorHarness : IAsyncDisposable
{
    private static readonly HttpClient Probe = new();

    private readonly ServiceProvider _services;

    private ConnectorHarness(TestVault vault, ISecretStore store, ServiceProvider services, CapturingLoggerProvider logs)
    {
        Vault = vault;
        Store = store;
        _services = services;
        Logs = logs;
    }

    public TestVault Vault { get; }
    public ISecretStore Store { get; }
    public CapturingLoggerProvider Logs { get; }

    public static async Task<ConnectorHarness> StartAsync()
    {
        var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddSingleton(store as ISecretStore)
            .AddKeyConnectors();
        // The production retry delay (1 s, exponential) would make each retried test wait seconds for nothing.
        foreach (var client in new[] { OpenAIKeyConnector.HttpClientName, AnthropicKeyConnector.HttpClientName })
            services.Configure<HttpStandardResilienceOptions>(client + "-standard", o => o.Retry.Delay = TimeSpan.FromMilliseconds(5));
        return new ConnectorHarness(vault, store, services.BuildServiceProvider(), logs);
    }

    public IKeyConnector Connector(string name) => _services.GetServices<IKeyConnector>().Single(c => c.Name == name);

    /// <summary>Puts an admin key in the vault under a fresh name and returns that name.</summary>
    public async Task<string> StoreAdminKeyAsync(string value)
    {
        var name = TestNames.NewSecretName("admin");
        await Store.SetAsync(name, value);
        return name;
    }

    public static ProviderKeyConfig Key(string provider, Uri baseUrl, IReadOnlyDictionary<string, string> settings) => new()
    {
        Name = $"{provider}-{Guid.NewGuid():N}"[..20],
        Provider = provider,
        BaseUrl = baseUrl,
        SecretName = TestNames.NewSecretName("pk"),
        Connector = provider,
        ConnectorSettings = settings,
    };

    public static ConnectorRequest Request(ProviderKeyConfig key, string? rotationId = null, params string[] serving) =>
        new(key, rotationId ?? Guid.NewGuid().ToString("N"), serving);

    /// <summary>The status of the provider's list-models call with the key: what the relay's validation call sends.</summary>
    public static async Task<int> ListModelsAsync(Uri baseUrl, string provider, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, "v1/models"));
        if (provider == "anthropic")
        {
            request.Headers.Add("x-api-key", key);
            request.Headers.Add("anthropic-version", AnthropicKeyConnector.ApiVersion);
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        using var response = await Probe.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>No 8-character piece of the secret is in the text: a key shown in part (masked, a hint) is still a leak.</summary>
    public static void AssertNoPartOf(string secret, string text)
    {
        const int Piece = 8;
        // Only the random tail after the last '-': the "fake-openai-admin-" stems are no secret, and a piece of a stem
        // plus one random character would match a provider key's name ("anthropic-3f...") one time in 16.
        for (var i = secret.LastIndexOf('-') + 1; i + Piece <= secret.Length; i++)
            Assert.False(text.Contains(secret.Substring(i, Piece), StringComparison.Ordinal), $"A piece of a secret ({i}..{i + Piece}) is in the text.");
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Vault.DisposeAsync();
    }
}
