namespace FuncKeyOps.Tenants;

public enum TenantKeyStoreOutcome
{
    /// <summary>The first value for this tenant and provider (or the first since a DELETE).</summary>
    Created,
    /// <summary>A new value now serves; the previous one is revoked after the grace.</summary>
    Replaced,
    /// <summary>The provider refused the value; nothing was stored.</summary>
    Rejected,
    /// <summary>The provider could not be reached; nothing was stored.</summary>
    Unreachable,
    /// <summary>The provider's answer said nothing about the value (404, 5xx, 429); nothing was stored.</summary>
    Inconclusive,
    /// <summary>The platform has no key for the provider, so no upstream (base URL) to send the tenant's key to.</summary>
    NoUpstream,
    /// <summary>The value replaced before is still within its grace; nothing was stored.</summary>
    RevokePending,
    /// <summary>Another PUT for this tenant and provider is under way; nothing was stored.</summary>
    InProgress,
}

/// <param name="Status">The provider's status on the validation call, when it answered.</param>
/// <param name="Key">The tenant's key as stored (metadata only), for Created and Replaced.</param>
public sealed record TenantKeyStoreResult(TenantKeyStoreOutcome Outcome, int? Status = null, TenantKeyRecord? Key = null);
