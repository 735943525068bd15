using FuncKeyOps.Errors;

namespace FuncKeyOps.ProviderKeys;

/// <summary>What the resolver found for a provider: a key to send, or why there is none (the relay answers 503).</summary>
public readonly record struct ProviderKeyResolution(ResolvedProviderKey? Key, FuncKeyOpsError? Missing)
{
    internal static ProviderKeyResolution NoActiveVersion => new(null, FuncKeyOpsErrors.NoActiveProviderKey);
}
