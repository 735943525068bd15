using FuncKeyOps.Errors;

namespace FuncKeyOps.ProviderKeys;

/// <param name="Version">The stored version; null when nothing was stored (the value was refused first).</param>
/// <param name="Refusal">Why nothing was stored, when the refusal came before any validation.</param>
public sealed record StagingResult(string? Version, ActivationResult? Activation, StagingRefusal? Refusal = null);

/// <param name="Detail">For the operator; never the value or a part of it.</param>
public sealed record StagingRefusal(FuncKeyOpsError Error, string Detail);
