namespace FuncKeyOps.Tenants;

/// <summary>A tenant's policy and the providers it brings its own key for, as the <c>tenants</c> table holds them.</summary>
/// <param name="FallbackToPlatform">The platform's key may serve the tenant's calls when its own is absent or refused
/// (default false: a tenant's traffic never spends the platform's money).</param>
public sealed record TenantRecord(string Tenant, bool FallbackToPlatform, IReadOnlyDictionary<string, TenantKeyRecord> Keys)
{
    /// <summary>A tenant with no rows: the default policy, no own keys.</summary>
    public static TenantRecord None(string tenant) => new(tenant, false, new Dictionary<string, TenantKeyRecord>());
}

/// <summary>What a tenant brought for one provider. <see cref="Stored"/> false: it was deleted, and the tenant still
/// counts as bringing its own key for the provider (its calls are refused, not moved to the platform's key).</summary>
/// <param name="Hint">The last 4 characters of the stored value; never more.</param>
public sealed record TenantKeyRecord(string Provider, bool Stored, string? Hint, DateTimeOffset? StoredAt, DateTimeOffset? LastUsed);
