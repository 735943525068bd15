namespace FuncKeyOps.ProviderKeys;

public enum RemovalOutcome
{
    Removed,
    NotFound,

    /// <summary>The key serves its provider and another registration of that provider would take the traffic over.</summary>
    InUse,

    /// <summary>A rotation of the key has not finished.</summary>
    RotationRunning,
}
