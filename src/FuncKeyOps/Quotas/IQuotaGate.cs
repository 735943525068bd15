using FuncKeyOps.ClientKeys;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Quotas;

/// <param name="Reason"><c>rpm</c>, <c>daily_tokens</c> or <c>monthly_tokens</c> when refused.</param>
public sealed record QuotaDecision(bool Allowed, TimeSpan? RetryAfter = null, string? Reason = null)
{
    public static readonly QuotaDecision Allow = new(true);
}

/// <summary>Per relay key rate limit and token budgets, shared across instances.</summary>
public interface IQuotaGate
{
    /// <summary>Takes one request permit and checks the budgets. Never calls storage on the request path.</summary>
    ValueTask<QuotaDecision> TryAcquireAsync(RelayKey key, CancellationToken cancellationToken = default);

    /// <summary>Counts a finished call's tokens against the key's budgets.</summary>
    void RecordUsage(RelayKey key, TokenUsage usage);
}
