using Azure.Core;
using Azure.Data.Tables;
using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.KnownSources;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.Audit;
using FuncKeyOps.Health;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.Relay;
using FuncKeyOps.Retention;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Routing;
using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
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

        // Every setting is checked as the host starts, so a bad one stops it with its name instead of failing a call later.
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString) || o.TableEndpoint is { IsAbsoluteUri: true },
                "Table Storage is not configured: set Storage:ConnectionString (local) or Storage:TableEndpoint (Azure).")
            .ValidateOnStart();
        services.AddOptions<KeyVaultOptions>().Bind(configuration.GetSection(KeyVaultOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyVaultOptions>, KeyVaultOptionsValidator>(
            sp => new KeyVaultOptionsValidator(sp.GetService<IHostEnvironment>())));
        services.AddOptions<SecretCacheOptions>()
            .Bind(configuration.GetSection(SecretCacheOptions.Section))
            .Validate(o => o.TimeToLive > TimeSpan.Zero, "Secrets:Cache:TimeToLive must be positive.")
            .Validate(o => o.RefreshAhead > TimeSpan.Zero && o.RefreshAhead <= o.TimeToLive,
                "Secrets:Cache:RefreshAhead must be positive and not above Secrets:Cache:TimeToLive.")
            .Validate(o => o.MaxStale >= TimeSpan.Zero, "Secrets:Cache:MaxStale must not be negative.")
            .ValidateOnStart();

        services.TryAddSingleton<TokenCredential>(sp => AzureClientFactory.CreateCredential(sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value));
        services.TryAddSingleton(sp => AzureClientFactory.CreateTableService(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<TokenCredential>));
        services.TryAddSingleton(sp => AzureClientFactory.CreateSecretClient(
            sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value, sp.GetRequiredService<TokenCredential>));

        services.TryAddSingleton<TableStore>();
        services.TryAddSingleton<ISecretStore, KeyVaultSecretStore>();
        services.TryAddSingleton<SecretCache>();

        services.AddProviders();
        services.AddRelayKeys(configuration);
        services.AddProviderKeys(configuration);
        services.AddProviderRouting(configuration);
        services.AddQuotas(configuration);
        services.AddAudit(configuration);
        services.AddRollupsAndBaselines(configuration); // what the anomaly sweep writes and its detectors read
        services.AddRelay(configuration);
        services.AddRotation(configuration); // with the key connectors
        // Here, not in AddKeyConnectors: which certificate ARM may present is the host's Key Vault setting (dev's fake ARM
        // serves the pinned test vault certificate), and the connectors do not read host settings.
        services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName).ConfigurePrimaryHttpMessageHandler(sp =>
            AzureClientFactory.CreateArmHandler(sp.GetRequiredService<IOptions<KeyVaultOptions>>().Value));
        services.AddAlerts(configuration);
        services.AddFindingActions(configuration); // its responder wins over the sweep's log-only default in either order
        services.AddShadowUsage(configuration); // one of the sweep's per-run checks
        services.AddNewSourceAndBudget(); // the known-source store wins over the sweep's empty default in either order
        services.AddAnomalySweeps(configuration); // each host triggers it: the Functions timer, the Server's schedule
        services.AddRetention(configuration); // likewise, daily

        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", timeout: HealthCheckTimeout)
            .AddCheck<KeyVaultHealthCheck>("keyVault", timeout: HealthCheckTimeout);
        return services;
    }
}
