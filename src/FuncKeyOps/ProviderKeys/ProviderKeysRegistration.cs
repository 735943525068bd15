using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.ProviderKeys;

public static class ProviderKeysRegistration
{
    public static IServiceCollection AddProviderKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProviderKeyOptions>().Bind(configuration.GetSection(ProviderKeyOptions.Section));
        services.TryAddSingleton<ProviderKeyRegistry>();
        services.TryAddSingleton<ProviderKeyResolver>();
        services.TryAddSingleton<ProviderKeyValidator>();
        services.TryAddSingleton<ProviderKeyActivation>();
        services.TryAddSingleton<ProviderKeyStaging>();
        services.TryAddSingleton<ProviderKeyRemoval>();
        return services;
    }
}
