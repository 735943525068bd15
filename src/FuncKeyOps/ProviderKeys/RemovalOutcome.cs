namespace FuncKeyOps.ProviderKeys;

public enum RemovalOutcome
{
    Removed,
    NotFound,

    /// <summary>The key serves its provider and another registration of that provider would take the traffic over.</summary>
    InUse,

    /// <summary>The key is a member of a pool: removing it would silently shrink the pool's capacity and failover.</summary>
    PoolMember,

    /// <summary>A rotation of the key has not finished.</summary>
    RotationRunning,
}
