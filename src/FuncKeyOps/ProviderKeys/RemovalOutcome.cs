namespace FuncKeyOps.ProviderKeys;

public enum RemovalOutcome
{
    Removed,
    NotFound,

    /// <summary>The key is its provider's default and other platform keys of that provider are registered (<see cref="RemovalResult.Successor"/> names one).</summary>
    InUse,

    /// <summary>A rotation of the key has not finished.</summary>
    RotationRunning,
}
