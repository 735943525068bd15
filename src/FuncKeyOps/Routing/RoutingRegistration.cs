using FuncKeyOps.Pools;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Routing;

public static class RoutingRegistration
{
    public static IServiceCollection AddProviderRouting(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<PoolRegistry>();
        services.TryAddSingleton<IPoolDirectory>(sp => sp.GetRequiredService<PoolRegistry>());
        services.TryAddSingleton<ITenantKeyDirectory, NoTenantKeys>();
        services.TryAddSingleton<IProviderKeyLimiter, UnlimitedProviderKeys>();
        services.TryAddSingleton<IProviderRouter, ProviderRouter>();
        return services;
    }
}
