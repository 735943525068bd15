using FuncKeyOps.Providers;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Quotas;

/// <summary>Per relay key rate limit and token budgets, shared across instances.</summary>
public interface IQuotaGate
{
    /// <summary>Takes one request permit and checks the budgets. Never calls storage on the request path.</summary>
    ValueTask<QuotaDecision> TryAcquireAsync(RelayKey key, CancellationToken cancellationToken = default);

    /// <summary>Counts a finished call's tokens against the key's budgets.</summary>
    void RecordUsage(RelayKey key, TokenUsage usage);
}
