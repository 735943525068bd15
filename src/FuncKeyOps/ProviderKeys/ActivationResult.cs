namespace FuncKeyOps.ProviderKeys;

/// <param name="Previous">Versions this activation tagged previous.</param>
public sealed record ActivationResult(ActivationOutcome Outcome, ProviderKeyValidation? Validation = null, IReadOnlyList<string>? Previous = null);
