using FuncKeyOps.Pools;
using FuncKeyOps.Quotas;
using FuncKeyOps.Tenants;
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
        services.AddTenants();
        // Provider-key ceilings are kept on the quota ledger: needs AddQuotas' QuotaGate (AddFuncKeyOps adds both).
        services.TryAddSingleton<IProviderKeyLimiter, ProviderKeyLimiter>();
        services.TryAddSingleton<IProviderRouter, ProviderRouter>();
        return services;
    }
}
