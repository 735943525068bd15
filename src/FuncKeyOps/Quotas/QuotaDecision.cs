using FuncKeyOps.Errors;

namespace FuncKeyOps.Quotas;

/// <param name="Refusal">When refused: <see cref="FuncKeyOpsErrors.RateLimited"/>, <see cref="FuncKeyOpsErrors.DailyTokens"/> or <see cref="FuncKeyOpsErrors.MonthlyTokens"/>.</param>
public sealed record QuotaDecision(bool Allowed, TimeSpan? RetryAfter = null, FuncKeyOpsError? Refusal = null)
{
    public static readonly QuotaDecision Allow = new(true);

    /// <summary>The refusal's code (<c>rpm</c>, <c>daily_tokens</c>, <c>monthly_tokens</c>), or null.</summary>
    public string? Reason => Refusal?.Code;
}
