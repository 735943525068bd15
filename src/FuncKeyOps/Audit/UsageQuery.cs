using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Audit;

/// <summary>
/// Usage per provider key over a time window, summed from the audit rows as they are read: the admin API's
/// <c>GET usage</c>, and what shadow-usage detection sets against the provider's own usage report per key version.
/// </summary>
public sealed class UsageQuery(TableStore tables)
{
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

        var total = new UsageTally(groupBy);
        await Parallel.ForEachAsync(
            Slices(from, to),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelReads, CancellationToken = cancellationToken },
            async (slice, token) =>
            {
                var tally = new UsageTally(groupBy);
                var filter = Filter(slice.From, slice.To, providerKey);
                foreach (var month in AuditQuery.Months(slice.From, slice.To))
                {
                    await foreach (var row in AuditQuery.ReadAsync(tables, month, filter, UsageTally.Columns, token).ConfigureAwait(false))
                        tally.Add(row);
                }
                lock (total)
                    total.Merge(tally);
            }).ConfigureAwait(false);

        return new UsageReport(from, to, providerKey, Name(groupBy), total.Totals, total.Versions, total.Groups);
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

    // Whole UTC hours (the first and last cut to the window): an hour never straddles two monthly tables, and a day's
    // window makes 24 range reads to share among the parallel readers.
    private static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Slices(DateTimeOffset from, DateTimeOffset to)
    {
        var start = from;
        while (start < to)
        {
            var hour = new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, 0, 0, TimeSpan.Zero);
            var end = hour + Slice < to ? hour + Slice : to;
            yield return (start, end);
            start = end;
        }
    }
}
