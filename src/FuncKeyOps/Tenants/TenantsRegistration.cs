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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, TenantKeyConnector>());
        return services;
    }

    /// <summary>
    /// Finishes, when the host starts, the key replacements of tenant PUTs that stopped (<see cref="TenantKeyService.RecoverAsync"/>).
    /// For a host whose rotation driver can schedule at start (the Server host's own driver). The Functions host's
    /// Durable driver schedules only within a trigger holding a Durable client, so there the first tenant call after a
    /// start recovers instead (<see cref="TenantKeyService"/> runs it once per process).
    /// </summary>
    public static IServiceCollection AddTenantKeyRecovery(this IServiceCollection services)
    {
        services.AddHostedService<TenantKeyRecovery>();
        return services;
    }
}
