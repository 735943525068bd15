namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// What a removal did; for <see cref="RemovalOutcome.InUse"/>, a key of the same provider that could take the default
/// over; for <see cref="RemovalOutcome.PoolMember"/>, the pools that hold the key.
/// </summary>
public readonly record struct RemovalResult(RemovalOutcome Outcome, string? Successor = null, IReadOnlyList<string>? Pools = null);
