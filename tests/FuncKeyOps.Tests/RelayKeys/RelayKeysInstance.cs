using FuncKeyOps.Hosting;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.RelayKeys;

/// <summary>
/// One app instance's relay-key services, composed the way the hosts compose them (AddFuncKeyOps + AddRelayKeys),
/// on a given vault and table prefix with a clock of its own. Two of them on one prefix are two instances.
/// </summary>
internal sealed class RelayKeysInstance : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;

    private RelayKeysInstance(ServiceProvider services, FakeTimeProvider time)
    {
        _services = services;
        Time = time;
    }

    public FakeTimeProvider Time { get; }
    public IServiceProvider Services => _services;
    public RelayKeyService Keys => _services.GetRequiredService<RelayKeyService>();
    public RelayKeyAuthenticator Authenticator => _services.GetRequiredService<RelayKeyAuthenticator>();
    public ISecretStore Secrets => _services.GetRequiredService<ISecretStore>();
    public TableStore Tables => _services.GetRequiredService<TableStore>();
    internal RelayKeyCache Cache => _services.GetRequiredService<RelayKeyCache>();

    public string PepperSecretName => _services.GetRequiredService<RelayKeyPepper>().SecretName;

    /// <param name="storagePolicy">Added to the Table Storage client's pipeline, e.g. to watch its reads.</param>
    /// <param name="secretStore">Replaces the product's store, e.g. to wrap it; receives the product's store.</param>
    public static async Task<RelayKeysInstance> StartAsync(
        TestVault vault,
        string tablePrefix,
        string? storageConnectionString = null,
        IDictionary<string, string?>? settings = null,
        Func<ISecretStore, ISecretStore>? secretStore = null,
        Azure.Core.Pipeline.HttpPipelinePolicy? storagePolicy = null)
    {
        var config = TestSettings.For(vault, storageConnectionString ?? await SharedAzurite.GetConnectionStringAsync(), tablePrefix);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            config[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(config).Build();

        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddLogging();
        // As a host in Development would register it: the local vault's pinned certificate is refused without it.
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Development });
        services.AddSingleton<TimeProvider>(time);
        if (secretStore is not null)
            services.AddSingleton(sp => secretStore(ActivatorUtilities.CreateInstance<KeyVaultSecretStore>(sp)));
        if (storagePolicy is not null)
            services.AddSingleton(Tests.Storage.TestTables.ServiceWith(config["Storage:ConnectionString"]!, storagePolicy));
        services.AddFuncKeyOps(configuration);
        services.AddRelayKeys(configuration);
        return new RelayKeysInstance(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), time);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
