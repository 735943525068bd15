namespace FuncKeyOps.ProviderKeys;

/// <param name="Version">The stored version; null when nothing was stored (the value was refused first).</param>
public sealed record StagingResult(string? Version, ActivationResult? Activation);
