using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Routing;

/// <summary>
/// The provider keys that may serve one relay key's call to one provider, from <see cref="IProviderRouter"/>: one key,
/// a pool's members, or a tenant's own key (then the platform's, when its policy allows); or why there are none.
/// </summary>
public sealed record ProviderRoute
{
    /// <summary>The pool's name when the route is a pool; null for a single key.</summary>
    public string? Pool { get; init; }
    public PoolMode Mode { get; init; } = PoolMode.Ordered;
    public IReadOnlyList<RouteMember> Members { get; init; } = [];
    /// <summary>Set when no key may serve: the relay answers it (503s).</summary>
    public FuncKeyOpsError? Missing { get; init; }

    public static ProviderRoute Single(ProviderKeyConfig key) => new() { Members = [new RouteMember(key, 1, NoDeployments)] };

    public static ProviderRoute Refused(FuncKeyOpsError missing) => new() { Missing = missing };

    internal static readonly IReadOnlyDictionary<string, string> NoDeployments = new Dictionary<string, string>();
}

/// <summary>A provider key of a route, with its pool weight and deployment names (Azure OpenAI).</summary>
public sealed record RouteMember(ProviderKeyConfig Key, int Weight, IReadOnlyDictionary<string, string> Deployments)
{
    /// <summary>Which of this member's failures let the call move on to the route's next member.</summary>
    public MemberFailover Failover { get; init; } = MemberFailover.AnyFailure;
}

/// <summary>Which of a route member's failures let a call move on to the route's next member.</summary>
public enum MemberFailover
{
    /// <summary>
    /// A pool member: any failure before the client's first byte (connection, timeout, 429, 5xx, its key refused or
    /// unusable) and an open circuit or its own limit; the members are interchangeable capacity.
    /// </summary>
    AnyFailure,

    /// <summary>
    /// A tenant's own key with the platform's behind it: only its key refused by the provider or unusable (no active
    /// version, unreadable secret). Busy, failing or unreachable, the tenant's key is the call's answer: the platform's
    /// members are the tenant's way around a bad key, not extra capacity paid by the platform.
    /// </summary>
    KeyRefusedOnly,
}
