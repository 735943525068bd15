using Azure.Core;
using Azure.Data.Tables;
using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Audit;
using FuncKeyOps.ClientKeys;
using FuncKeyOps.Health;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.Relay;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Hosting;

/// <summary>The one registration both hosts call, so the Functions worker and the Server host run the same library.</summary>
public static class FuncKeyOpsRegistration
{
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddFuncKeyOps(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecretRedactor>();

        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section));
        services.AddOptions<KeyVaultOptions>().Bind(configuration.GetSection(KeyVaultOptions.Section));
        services.AddOptions<SecretCacheOptions>().Bind(configuration.GetSection(SecretCacheOptions.Section));

        services.TryAddSingleton<TokenCredential>(sp => AzureClientFactory.CreateCredential(sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value));
        services.TryAddSingleton(sp => AzureClientFactory.CreateTableService(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<TokenCredential>));
        services.TryAddSingleton(sp => AzureClientFactory.CreateSecretClient(
            sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value, sp.GetRequiredService<TokenCredential>));

        services.TryAddSingleton<TableStore>();
        services.TryAddSingleton<ISecretStore, KeyVaultSecretStore>();
        services.TryAddSingleton<SecretCache>();

        services.AddProviders();
        services.AddClientKeys(configuration);
        services.AddProviderKeys(configuration);
        services.AddQuotas(configuration);
        services.AddAudit(configuration);
        services.AddRelay(configuration);

        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", timeout: HealthCheckTimeout)
            .AddCheck<KeyVaultHealthCheck>("keyVault", timeout: HealthCheckTimeout);
        return services;
    }
}
