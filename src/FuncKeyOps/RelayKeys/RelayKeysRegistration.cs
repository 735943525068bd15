using FuncKeyOps.Admin;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.RelayKeys;

public static class RelayKeysRegistration
{
    /// <summary>
    /// Relay keys: <see cref="RelayKeyService"/>, <see cref="RelayKeyAuthenticator"/> and the admin gate. Needs the
    /// storage and secret services of <c>AddFuncKeyOps</c>. The service and the authenticator share one row cache,
    /// which is what lets a status change here take effect at once on this instance.
    /// </summary>
    public static IServiceCollection AddRelayKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddFuncKeyOpsAdmin(configuration);
        services.AddOptions<RelayKeysOptions>()
            .Bind(configuration.GetSection(RelayKeysOptions.Section))
            .Validate(o => o.CacheTtl > TimeSpan.Zero && o.NegativeCacheTtl >= TimeSpan.Zero && o.MaxStale >= TimeSpan.Zero,
                "RelayKeys:CacheTtl must be positive; NegativeCacheTtl and MaxStale must not be negative.")
            .Validate(o => o.NegativeCacheCapacity > 0, "RelayKeys:NegativeCacheCapacity must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.PepperSecretName), "RelayKeys:PepperSecretName is required.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RelayKeyCache(
            sp.GetRequiredService<TableStore>(),
            sp.GetRequiredService<IOptions<RelayKeysOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RelayKeyCache>>()));
        services.TryAddSingleton(sp => new RelayKeyPepper(
            sp.GetRequiredService<SecretCache>(),
            sp.GetRequiredService<ISecretStore>(),
            sp.GetRequiredService<IOptions<RelayKeysOptions>>()));
        services.TryAddSingleton(sp => new RelayKeyService(
            sp.GetRequiredService<TableStore>(),
            sp.GetRequiredService<RelayKeyPepper>(),
            sp.GetRequiredService<RelayKeyCache>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<RelayKeyBindingCheck>()));
        services.TryAddSingleton<RelayKeyBindingCheck>();
        services.TryAddSingleton(sp => new RelayKeyAuthenticator(
            sp.GetRequiredService<RelayKeyCache>(),
            sp.GetRequiredService<RelayKeyPepper>()));
        return services;
    }
}
