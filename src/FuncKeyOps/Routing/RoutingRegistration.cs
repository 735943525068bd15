using FuncKeyOps.Tenants;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Routing;

public static class RoutingRegistration
{
    public static IServiceCollection AddProviderRouting(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<IPoolDirectory, NoPools>();
        services.AddTenants();
        services.TryAddSingleton<IProviderKeyLimiter, UnlimitedProviderKeys>();
        services.TryAddSingleton<IProviderRouter, ProviderRouter>();
        return services;
    }
}
