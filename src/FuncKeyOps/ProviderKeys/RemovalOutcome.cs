namespace FuncKeyOps.ProviderKeys;

public enum RemovalOutcome
{
    Removed,
    NotFound,

    /// <summary>The key is its provider's default and other platform keys of that provider are registered (<see cref="RemovalResult.Successor"/> names one).</summary>
    InUse,

    /// <summary>The key is a member of a pool: removing it would silently shrink the pool's capacity and failover.</summary>
    PoolMember,

    /// <summary>A rotation of the key has not finished.</summary>
    RotationRunning,
}
