namespace FuncKeyOps.ProviderKeys;

/// <param name="Previous">Versions this activation tagged previous.</param>
/// <param name="RunningRotation">For <see cref="ActivationOutcome.RotationRunning"/>: the id of the rotation that has not finished.</param>
public sealed record ActivationResult(ActivationOutcome Outcome, ProviderKeyValidation? Validation = null, IReadOnlyList<string>? Previous = null,
    string? RunningRotation = null);
