using FuncKeyOps.ClientKeys;
using FuncKeyOps.Errors;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Quotas;

/// <param name="Refusal">When refused: <see cref="FuncKeyOpsErrors.RateLimited"/>, <see cref="FuncKeyOpsErrors.DailyTokens"/> or <see cref="FuncKeyOpsErrors.MonthlyTokens"/>.</param>
public sealed record QuotaDecision(bool Allowed, TimeSpan? RetryAfter = null, FuncKeyOpsError? Refusal = null)
{
    public static readonly QuotaDecision Allow = new(true);

    /// <summary>The refusal's code (<c>rpm</c>, <c>daily_tokens</c>, <c>monthly_tokens</c>), or null.</summary>
    public string? Reason => Refusal?.Code;
}

/// <summary>Per relay key rate limit and token budgets, shared across instances.</summary>
public interface IQuotaGate
{
    /// <summary>Takes one request permit and checks the budgets. Never calls storage on the request path.</summary>
    ValueTask<QuotaDecision> TryAcquireAsync(RelayKey key, CancellationToken cancellationToken = default);

    /// <summary>Counts a finished call's tokens against the key's budgets.</summary>
    void RecordUsage(RelayKey key, TokenUsage usage);
}
