using FuncKeyOps.Routing;
using FuncKeyOps.Rotation.Connectors;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Tenants;

/// <summary>Tenants' own keys (BYOK): the store, the relay's directory and the connector their revokes run with.</summary>
public static class TenantsRegistration
{
    public static IServiceCollection AddTenants(this IServiceCollection services)
    {
        services.TryAddSingleton<TenantStore>();
        services.TryAddSingleton<TenantKeyUsage>();
        services.TryAddSingleton<TenantKeyDirectory>();
        services.TryAddSingleton<ITenantKeyDirectory>(sp => sp.GetRequiredService<TenantKeyDirectory>());
        services.TryAddSingleton<TenantKeyService>();
        services.AddHostedService<TenantKeyRecovery>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, TenantKeyConnector>());
        return services;
    }
}
