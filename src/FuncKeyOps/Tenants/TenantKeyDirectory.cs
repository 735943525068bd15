using FuncKeyOps.Caching;
using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tenants;

/// <summary>
/// The relay's view of tenants' own keys: the tenant's key from the provider-key registry's snapshot (its name is
/// derived from tenant and provider), and the tenant's policy and "brings its own key" memory from a cached read of
/// its <c>tenants</c> rows, refreshed as the registry is (<see cref="ProviderKeyOptions.CacheTtl"/>, served through a
/// storage outage for <see cref="ProviderKeyOptions.MaxStale"/>). Steady traffic never waits on Table Storage.
/// </summary>
public sealed class TenantKeyDirectory : ITenantKeyDirectory
{
    private readonly ProviderKeyRegistry _registry;
    private readonly TenantKeyUsage _usage;
    private readonly RefreshingCache<string, TenantRecord> _tenants;

    public TenantKeyDirectory(ProviderKeyRegistry registry, TenantStore store, TenantKeyUsage usage, IOptions<ProviderKeyOptions> options,
        TimeProvider time, ILogger<TenantKeyDirectory> logger)
    {
        _registry = registry;
        _usage = usage;
        _tenants = new RefreshingCache<string, TenantRecord>(nameof(TenantKeyDirectory), options.Value.CachePolicy,
            // A tenant without rows is cached as an empty record, not as absent: absence is not served through a storage
            // outage, and the relay must keep serving every tenant while Table Storage is down, as the registry does.
            async (tenant, cancellationToken) => await store.GetAsync(tenant, cancellationToken).ConfigureAwait(false) ?? TenantRecord.None(tenant),
            StorageReadFailure.Is, time, logger, StringComparer.Ordinal);
    }

    public async ValueTask<TenantKeyRoute> FindAsync(string tenant, string provider, CancellationToken cancellationToken = default)
    {
        var record = await _tenants.GetAsync(tenant, cancellationToken).ConfigureAwait(false);
        var fallback = record?.FallbackToPlatform ?? false;
        var own = await _registry.FindAsync(TenantKeyNames.KeyName(tenant, provider), cancellationToken).ConfigureAwait(false);
        if (own is not null && own.Tenant == tenant && own.Provider == provider)
        {
            _usage.Touch(tenant, provider);
            return new TenantKeyRoute(own, null, fallback);
        }
        // Once a tenant brought a key for the provider, its calls stay off the platform's key unless its policy allows.
        if (record is not null && record.Keys.ContainsKey(provider) && !fallback)
            return new TenantKeyRoute(null, FuncKeyOpsErrors.TenantKeyMissing, false);
        return TenantKeyRoute.Platform;
    }

    /// <summary>This instance reads the tenant's rows again on its next call; others within the cache TTL.</summary>
    public void Invalidate(string tenant) => _tenants.Invalidate(tenant);
}
