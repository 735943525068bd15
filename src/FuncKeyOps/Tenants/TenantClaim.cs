using Azure;

namespace FuncKeyOps.Tenants;

/// <summary>A PUT's claim on the replacement of a tenant's key for a provider (<see cref="TenantStore.TryClaimAsync"/>).</summary>
public sealed record TenantClaim(string Tenant, string Provider, DateTimeOffset? ClaimedAt, ETag ETag);
