using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.ProviderKeys;

public static class ProviderKeysRegistration
{
    public static IServiceCollection AddProviderKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProviderKeyOptions>()
            .Bind(configuration.GetSection(ProviderKeyOptions.Section))
            .Validate(o => o.CacheTtl > TimeSpan.Zero, "ProviderKeys:CacheTtl must be positive.")
            .Validate(o => o.MaxStale >= TimeSpan.Zero, "ProviderKeys:MaxStale must not be negative.")
            .Validate(o => o.ValidationTimeout > TimeSpan.Zero, "ProviderKeys:ValidationTimeout must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton<ProviderKeyRegistry>();
        services.TryAddSingleton<ProviderKeyResolver>();
        services.TryAddSingleton<ProviderKeyValidator>();
        services.TryAddSingleton<ProviderKeyActivation>();
        services.TryAddSingleton<ProviderKeyStaging>();
        services.TryAddSingleton<ProviderKeyRemoval>();
        return services;
    }
}
