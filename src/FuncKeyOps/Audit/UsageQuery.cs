using Azure.Data.Tables;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Audit;

/// <summary>
/// Usage per provider key over a time window: the admin API's <c>GET usage</c>, and what shadow-usage detection sets
/// against the provider's own usage report per key version. Whole days, hours and windows the sweep has rolled up
/// are read from their rollups; only the rest (the open edge after the last complete window, edges that cut a
/// window, time never swept) is summed from the audit rows as they are read. Both count by the same rules.
/// </summary>
public sealed class UsageQuery(TableStore tables)
{
    private readonly RollupStore _rollups = new(tables);

    /// <summary>Longest window one query may sum, as for the audit rows themselves.</summary>
    public static readonly TimeSpan MaxRange = AuditAdminHandlers.MaxRange;

    /// <summary>
    /// Rollup periods and raw stretches read at once. A period is a partition of cells; a raw stretch is read as
    /// slices of seconds that grow where rows are few (<see cref="AuditSliceReader"/>), so an empty or sparse month
    /// costs a few dozen round trips, not one per hour, and a busy edge about a page per request. Only pages in
    /// flight are held, however large the window.
    /// </summary>
    internal const int MaxParallelReads = 4;

    /// <summary>
    /// Usage of the rows with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/> that name a provider key
    /// (<paramref name="providerKey"/>, or any when null). A month whose table does not exist has no rows.
    /// </summary>
    public async Task<UsageReport> SummarizeAsync(
        DateTimeOffset from,
        DateTimeOffset to,
        string? providerKey,
        UsageGroupBy groupBy,
        CancellationToken cancellationToken = default)
    {
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        if (from > to)
            throw new ArgumentException("from is after to.", nameof(from));
        if (to - from > MaxRange)
            throw new ArgumentException($"The window may span at most {MaxRange.TotalDays} days.", nameof(to));

        var coverage = await RollupCoverage.PlanAsync(_rollups, from, to, cancellationToken).ConfigureAwait(false);
        var ranges = Ranges(providerKey, groupBy);
        IEnumerable<(RollupPeriod? Period, DateTimeOffset From, DateTimeOffset To)> reads =
        [
            .. coverage.Periods.Select(p => ((RollupPeriod?)p, p.Start, p.End)),
            .. coverage.Raw.Select(r => ((RollupPeriod?)null, r.From, r.To)),
        ];
        var total = new UsageTally(groupBy);
        await Parallel.ForEachAsync(
            reads,
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelReads, CancellationToken = cancellationToken },
            async (read, token) =>
            {
                var tally = new UsageTally(groupBy);
                if (read.Period is { } period)
                {
                    await foreach (var cell in _rollups.ReadAsync(period, ranges, token).ConfigureAwait(false))
                        Add(tally, cell, providerKey);
                }
                else
                {
                    var where = providerKey is null ? null : TableClient.CreateQueryFilter($"ProviderKeyName eq {providerKey}");
                    await foreach (var row in AuditSliceReader.ReadAsync(tables, read.From, read.To, UsageTally.Columns, token, where).ConfigureAwait(false))
                        tally.Add(row);
                }
                lock (total)
                    total.Merge(tally);
            }).ConfigureAwait(false);

        return new UsageReport(from, to, providerKey, Name(groupBy), total.Totals, total.Versions, total.Groups);
    }

    // The cells a report needs: its key's (or every key's) versions, and the grouping's own cells unless grouped by key.
    private static List<(string From, string To)> Ranges(string? providerKey, UsageGroupBy groupBy) => groupBy switch
    {
        UsageGroupBy.RelayKey => [RollupKeys.Range(RollupDimension.Version, providerKey), RollupKeys.Range(RollupDimension.RelayKey, providerKey)],
        UsageGroupBy.Model => [RollupKeys.Range(RollupDimension.Version, providerKey), RollupKeys.Range(RollupDimension.Model, providerKey)],
        _ => [RollupKeys.Range(RollupDimension.Version, providerKey)],
    };

    private static void Add(UsageTally tally, RollupCell cell, string? providerKey)
    {
        // Cells of rows that named no provider key are not usage, as raw rows without one are skipped; a range of one
        // key's cells is exact unless a key name was digested for its length, so the name is checked too.
        if (cell.ProviderKey is not { Length: > 0 } key || (providerKey is not null && key != providerKey))
            return;
        var c = cell.Counts;
        if (cell.Dimension == RollupDimension.Version)
            tally.AddVersion(key, cell.Value, c.Calls, c.Errors, c.InputTokens, c.OutputTokens);
        else if (cell.Dimension is RollupDimension.RelayKey or RollupDimension.Model)
            tally.AddGroup(cell.Value, c.Calls, c.Errors, c.InputTokens, c.OutputTokens);
    }

    /// <summary>The admin API's name of a grouping (camelCase, as the JSON is).</summary>
    public static string Name(UsageGroupBy groupBy) => groupBy switch
    {
        UsageGroupBy.RelayKey => "relayKey",
        UsageGroupBy.Model => "model",
        _ => "providerKey",
    };
}
