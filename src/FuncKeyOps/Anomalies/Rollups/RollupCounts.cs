using FuncKeyOps.Audit;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// The counters of one rollup cell. Calls, errors and tokens follow <see cref="UsageTally"/>'s rules exactly (its
/// <see cref="UsageTally.IsError"/> and <see cref="UsageTally.IsAnswer"/>), so usage summed from rollups equals usage
/// summed from the raw rows.
/// </summary>
internal sealed class RollupCounts
{
    /// <summary>Every row, a failed first attempt of a retried call included, as <see cref="UsageTotals.Calls"/>.</summary>
    public long Calls { get; private set; }

    /// <summary>As <see cref="UsageTotals.Errors"/>: a status of 400 or more, or an error code.</summary>
    public long Errors { get; private set; }

    /// <summary>Calls the relay answered 5xx (its own 502 for a failed upstream included): what <c>error_rate</c> reads.</summary>
    public long ServerErrors { get; private set; }

    /// <summary>Tokens of answered rows only, estimated ones included, as <see cref="UsageTotals.InputTokens"/>.</summary>
    public long InputTokens { get; private set; }

    public long OutputTokens { get; private set; }

    /// <summary>The rows' cost estimates, counted by the same rule as their tokens.</summary>
    public decimal CostUsd { get; private set; }

    public long TotalTokens => InputTokens + OutputTokens;

    public void Add(in SweepRow row)
    {
        var answered = UsageTally.IsAnswer(row.Attempt);
        Calls++;
        Errors += UsageTally.IsError(row.Status, row.ErrorCode) ? 1 : 0;
        ServerErrors += row.Status >= 500 ? 1 : 0;
        if (!answered)
            return;
        InputTokens += row.InputTokens ?? 0;
        OutputTokens += row.OutputTokens ?? 0;
        CostUsd += row.CostEstimateUsd ?? 0m;
    }

    public void Add(RollupCounts other)
    {
        Calls += other.Calls;
        Errors += other.Errors;
        ServerErrors += other.ServerErrors;
        InputTokens += other.InputTokens;
        OutputTokens += other.OutputTokens;
        CostUsd += other.CostUsd;
    }

    /// <summary>Counts as stored (<see cref="RollupCell"/>), e.g. to seed a period or to read one back.</summary>
    public static RollupCounts Of(long calls, long errors, long serverErrors, long inputTokens, long outputTokens, decimal costUsd) => new()
    {
        Calls = calls,
        Errors = errors,
        ServerErrors = serverErrors,
        InputTokens = inputTokens,
        OutputTokens = outputTokens,
        CostUsd = costUsd,
    };
}
