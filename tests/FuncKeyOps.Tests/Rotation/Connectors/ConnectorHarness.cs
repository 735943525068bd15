using Azure.Core;
using FuncKeyOps.Logging;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Secrets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>
/// The connectors as the hosts register them (<see cref="ConnectorsRegistration.AddKeyConnectors"/>), over the real
/// SecretClient against a test vault, with every log line captured so tests can check no secret reaches one.
/// </summary>
internal sealed class ConnectorHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ConnectorHarness(TestVault vault, ServiceProvider services, CapturingLoggerProvider logs)
    {
        Vault = vault;
        _services = services;
        Logs = logs;
    }

    public TestVault Vault { get; }
    public CapturingLoggerProvider Logs { get; }
    public ISecretStore Secrets => _services.GetRequiredService<ISecretStore>();

    /// <param name="armCredential">The TokenCredential the hosts register; the vault's fixed-token credential when null.</param>
    public static async Task<ConnectorHarness> StartAsync(Action<IServiceCollection>? configure = null, TokenCredential? armCredential = null)
    {
        var vault = await TestVault.StartAsync();
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSingleton(new SecretRedactor());
        services.AddSingleton(TestVaults.ProductClient(vault));
        services.AddSingleton<ISecretStore, KeyVaultSecretStore>();
        services.AddSingleton(armCredential ?? vault.Credential);
        services.AddKeyConnectors();
        configure?.Invoke(services);
        return new ConnectorHarness(vault, services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), logs);
    }

    public IKeyConnector Connector(string name) => _services.GetServices<IKeyConnector>().Single(c => c.Name == name);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Vault.DisposeAsync();
    }
}
