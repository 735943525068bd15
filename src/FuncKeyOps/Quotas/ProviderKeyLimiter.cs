using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Routing;

namespace FuncKeyOps.Quotas;

/// <summary>
/// Keeps provider keys under the RPM/TPM the provider grants them, across instances, on the same ledger as relay-key
/// quotas (<see cref="QuotaGate"/>: counts in memory, merged into shared <c>usage</c> rows under
/// <c>pk:{name}</c> by the same flush, global totals read back). RPM is the same
/// <see cref="System.Threading.RateLimiting.FixedWindowRateLimiter"/> per UTC minute as a relay key's; TPM is a
/// count compared, since a call's tokens are known only after it was admitted. See docs/quotas.md for the overshoot.
/// </summary>
public sealed class ProviderKeyLimiter(QuotaGate gate) : IProviderKeyLimiter
{
    public ValueTask<ProviderKeyLimitDecision> TryAcquireAsync(ProviderKeyConfig key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Most keys have no ceiling: they never reach the ledger (no state, no rows, no flush work).
        if (key.Rpm is null && key.Tpm is null)
            return new(ProviderKeyLimitDecision.Allow);
        var decision = gate.TryAcquire(QuotaSubject.Of(key));
        return new(decision.Allowed ? ProviderKeyLimitDecision.Allow : new ProviderKeyLimitDecision(false, decision.RetryAfter));
    }

    public void RecordUsage(ProviderKeyConfig key, TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(key);
        // Only a TPM ceiling counts tokens; requests were counted when admitted.
        if (key.Tpm is null)
            return;
        gate.Record(QuotaSubject.Of(key), usage);
    }
}
