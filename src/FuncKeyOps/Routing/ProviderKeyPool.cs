namespace FuncKeyOps.Routing;

/// <summary>How a pool orders its members for a call.</summary>
public enum PoolMode
{
    /// <summary>The first member is drawn by weight; the others follow as failover in their listed order.</summary>
    Weighted,
    /// <summary>Always the listed order: the first member serves while it can, the next takes over.</summary>
    Ordered,
}

/// <summary>
/// A named list of provider keys of one provider (regions, projects) that the relay spreads calls over and fails
/// over between before the first byte. A relay key binds to a pool by its name as it would to a provider key.
/// </summary>
public sealed record ProviderKeyPool
{
    public required string Name { get; init; }
    public required string Provider { get; init; }
    public PoolMode Mode { get; init; } = PoolMode.Weighted;
    public IReadOnlyList<PoolMember> Members { get; init; } = [];
}

/// <summary>One provider key of a pool.</summary>
public sealed record PoolMember
{
    /// <summary>The provider key's name (a platform key of the pool's provider).</summary>
    public required string KeyName { get; init; }
    /// <summary>Share of the pool's calls in <see cref="PoolMode.Weighted"/> mode; relative to the other members.</summary>
    public int Weight { get; init; } = 1;
    /// <summary>
    /// Azure OpenAI: the deployment name a client calls (the one in its path) -> this member's deployment serving it,
    /// since each region names its deployments itself. A name not listed is sent as the client gave it.
    /// </summary>
    public IReadOnlyDictionary<string, string> Deployments { get; init; } = new Dictionary<string, string>();
}
