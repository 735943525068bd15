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
    /// Windows read at once. Each reads its own hour of partitions, a page (at most 1,000 rows, only the counted
    /// columns) at a time, so at most this many pages are held however large the window.
    /// </summary>
    internal const int MaxParallelReads = 4;

    private static readonly TimeSpan Slice = TimeSpan.FromHours(1);

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
            .. coverage.Raw.SelectMany(r => Slices(r.From, r.To)).Select(s => ((RollupPeriod?)null, s.From, s.To)),
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
                    var filter = Filter(read.From, read.To, providerKey);
                    foreach (var month in AuditQuery.Months(read.From, read.To))
                    {
                        await foreach (var row in AuditQuery.ReadAsync(tables, month, filter, UsageTally.Columns, token).ConfigureAwait(false))
                            tally.Add(row);
                    }
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

    // The provider key is filtered at the service, so rows of other keys never cross the wire.
    private static string Filter(DateTimeOffset from, DateTimeOffset to, string? providerKey)
    {
        var filter = AuditQuery.Filter(from, to, relayKeyId: null);
        return providerKey is null
            ? filter
            : filter + " and " + TableClient.CreateQueryFilter($"ProviderKeyName eq {providerKey}");
    }

    // Whole UTC hours, several together in a long window (the first and last cut to the window), never across the turn of
    // a month (monthly tables). A day is 24 range reads to share among the parallel readers; a raw month is about
    // TargetSlices reads, not 744: on an empty or sparse month each read's round trip is the cost, and 744 of them did
    // not fit the admin call's 10 s on a loaded machine.
    private static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Slices(DateTimeOffset from, DateTimeOffset to)
    {
        var hours = Math.Clamp((int)Math.Ceiling((to - from).TotalHours / TargetSlices), 1, 24);
        var start = from;
        while (start < to)
        {
            var hour = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
            var month = new DateTimeOffset(start.Year, start.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
            var end = Min(Min(hour + Slice * hours, month), to);
            yield return (start, end);
            start = end;
        }
    }

    private const int TargetSlices = 32;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
