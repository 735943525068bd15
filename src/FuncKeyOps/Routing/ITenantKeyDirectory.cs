using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Routing;

/// <summary>A tenant's own provider keys (BYOK) and its fallback policy, as the relay needs them (cached reads).</summary>
public interface ITenantKeyDirectory
{
    ValueTask<TenantKeyRoute> FindAsync(string tenant, string provider, CancellationToken cancellationToken = default);
}

/// <summary>
/// What a tenant's policy says about one provider: its own key (<see cref="Key"/>), a refusal (<see cref="Missing"/>:
/// the tenant brings its own key but has none usable and may not spend the platform's), or neither, when the
/// platform's routing applies. <see cref="FallbackToPlatform"/>: the platform's key may serve when the tenant's own
/// is refused by the provider.
/// </summary>
public sealed record TenantKeyRoute(ProviderKeyConfig? Key, FuncKeyOpsError? Missing, bool FallbackToPlatform)
{
    /// <summary>The tenant brings no key for this provider (or may fall back): the platform's routing applies.</summary>
    public static TenantKeyRoute Platform { get; } = new(null, null, true);
}
