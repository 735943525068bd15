using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Routing;

/// <summary>
/// Keeps each provider key under the RPM/TPM ceiling it carries (<see cref="ProviderKeyConfig.Rpm"/>,
/// <see cref="ProviderKeyConfig.Tpm"/>), shared across instances as relay-key quotas are. The relay asks before it
/// sends a call with a key, and moves on to another member when refused.
/// </summary>
public interface IProviderKeyLimiter
{
    /// <summary>Counts one call against the key when it is allowed.</summary>
    ValueTask<ProviderKeyLimitDecision> TryAcquireAsync(ProviderKeyConfig key, CancellationToken cancellationToken = default);

    /// <summary>The tokens a call with this key used (counted against its TPM ceiling).</summary>
    void RecordUsage(ProviderKeyConfig key, TokenUsage usage);
}

/// <summary>Allowed, or refused with when the key has room again.</summary>
public readonly record struct ProviderKeyLimitDecision(bool Allowed, TimeSpan? RetryAfter)
{
    public static ProviderKeyLimitDecision Allow { get; } = new(true, null);
}
