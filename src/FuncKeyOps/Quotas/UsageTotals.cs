namespace FuncKeyOps.Quotas;

/// <summary>Token and request counts of one usage window: a delta, or a row's totals.</summary>
internal readonly record struct UsageTotals(long Tokens, long Requests)
{
    public bool IsZero => Tokens == 0 && Requests == 0;

    public static UsageTotals operator +(UsageTotals a, UsageTotals b) => new(a.Tokens + b.Tokens, a.Requests + b.Requests);

    public static UsageTotals operator -(UsageTotals a, UsageTotals b) => new(a.Tokens - b.Tokens, a.Requests - b.Requests);
}

/// <summary>
/// One delta on its way to a row. The token is written into the row with it, so a writer whose response was lost
/// (a timeout, an SDK retry answered 412/409) can tell by reading the row that the delta is already in.
/// </summary>
internal sealed record MergeAttempt(UsageTotals Delta, string Token);
