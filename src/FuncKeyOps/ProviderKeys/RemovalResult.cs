namespace FuncKeyOps.ProviderKeys;

/// <summary>What a removal did; for <see cref="RemovalOutcome.InUse"/>, a key of the same provider that could take the default over.</summary>
public readonly record struct RemovalResult(RemovalOutcome Outcome, string? Successor = null);
