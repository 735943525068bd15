using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Routing;

/// <summary>
/// A relay key's route to a provider, in this order: the tenant's own key (BYOK), when its policy says so; else the
/// provider key or pool the relay key is bound to; else the provider's default key. Every read is a cached snapshot.
/// </summary>
public sealed class ProviderRouter(ProviderKeyRegistry registry, IPoolDirectory pools, ITenantKeyDirectory tenants) : IProviderRouter
{
    public async ValueTask<ProviderRoute> RouteAsync(RelayKey key, string provider, CancellationToken cancellationToken = default)
    {
        var tenant = await tenants.FindAsync(key.Tenant, provider, cancellationToken).ConfigureAwait(false);
        if (tenant.Missing is { } missing)
            return ProviderRoute.Refused(missing);
        if (tenant.Key is { } own && !tenant.FallbackToPlatform)
            return ProviderRoute.Single(own);
        var platform = await PlatformRouteAsync(key, provider, cancellationToken).ConfigureAwait(false);
        if (tenant.Key is not { } first)
            return platform;
        // The tenant's key first; the platform's members, in their listed order, only once the tenant's key is refused.
        return new ProviderRoute
        {
            Mode = PoolMode.Ordered,
            Members = [new RouteMember(first, 1, ProviderRoute.NoDeployments) { Failover = MemberFailover.KeyRefusedOnly }, .. platform.Members],
        };
    }

    private async ValueTask<ProviderRoute> PlatformRouteAsync(RelayKey key, string provider, CancellationToken cancellationToken)
    {
        if (!key.ProviderKeys.TryGetValue(provider, out var bound))
        {
            var fallback = await registry.FindDefaultAsync(provider, cancellationToken).ConfigureAwait(false);
            return fallback is null ? ProviderRoute.Refused(FuncKeyOpsErrors.NoProviderKey) : ProviderRoute.Single(fallback);
        }
        if (await registry.FindAsync(bound, cancellationToken).ConfigureAwait(false) is { Tenant: null } config && config.Provider == provider)
            return ProviderRoute.Single(config);
        if (await pools.FindAsync(bound, cancellationToken).ConfigureAwait(false) is { } pool && pool.Provider == provider)
            return await ExpandAsync(pool, cancellationToken).ConfigureAwait(false);
        return ProviderRoute.Refused(FuncKeyOpsErrors.BoundProviderKeyMissing);
    }

    private async ValueTask<ProviderRoute> ExpandAsync(ProviderKeyPool pool, CancellationToken cancellationToken)
    {
        var members = new List<RouteMember>(pool.Members.Count);
        foreach (var member in pool.Members)
        {
            // A member removed since the pool was written is skipped, not an error: the pool's others still serve.
            if (await registry.FindAsync(member.KeyName, cancellationToken).ConfigureAwait(false) is { Tenant: null } config && config.Provider == pool.Provider)
                members.Add(new RouteMember(config, member.Weight, member.Deployments));
        }
        return members.Count == 0
            ? ProviderRoute.Refused(FuncKeyOpsErrors.BoundProviderKeyMissing)
            : new ProviderRoute { Pool = pool.Name, Mode = pool.Mode, Members = members };
    }
}
