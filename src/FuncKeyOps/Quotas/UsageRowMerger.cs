using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Quotas;

/// <summary>
/// Adds a delta to a usage row exactly once, however many instances write it: read, add, replace if the ETag still
/// matches (insert if absent), and on a lost race read again. The merge token in the row turns an ambiguous outcome
/// (our write landed but we got an error, e.g. an SDK retry answered 412 or 409) into a known one.
/// </summary>
internal static class UsageRowMerger
{
    // Contention on one row is a handful of instances; past this the delta simply waits for the next flush.
    private const int MaxTries = 8;

    /// <summary>
    /// The row's totals with the delta in, or null when other writers kept winning (nothing written).
    /// <paramref name="stamp"/> is the minute of a ring row (null for day and month rows): a row still holding an
    /// earlier minute is taken over; one already holding a later minute is left alone, since a count of a minute
    /// that is over no longer limits anything (the delta's own totals are returned).
    /// </summary>
    public static async Task<UsageTotals?> MergeAsync(
        TableClient table, string partitionKey, string rowKey, string? stamp, MergeAttempt attempt, Action onConflict, CancellationToken cancellationToken)
    {
        for (var i = 0; i < MaxTries; i++)
        {
            var row = await table.TryGetAsync<UsageRow>(partitionKey, rowKey, cancellationToken).ConfigureAwait(false);
            if (row is not null && !row.Holds(stamp))
            {
                if (string.CompareOrdinal(row.Window, stamp) > 0)
                    return attempt.Delta;
                row.TakeOver(stamp!);
            }
            else if (row is not null && row.HasMerge(attempt.Token))
            {
                return row.ToTotals();
            }
            if (row is null)
            {
                row = new UsageRow { PartitionKey = partitionKey, RowKey = rowKey, Window = stamp };
                row.Add(attempt);
                if (await table.TryInsertAsync(row, cancellationToken).ConfigureAwait(false))
                    return row.ToTotals();
            }
            else
            {
                row.Add(attempt);
                if (await table.TryReplaceAsync(row, cancellationToken).ConfigureAwait(false))
                    return row.ToTotals();
            }
            onConflict();
        }
        return null;
    }

    public static async Task<UsageTotals> ReadAsync(TableClient table, string partitionKey, string rowKey, string? stamp, CancellationToken cancellationToken)
    {
        var row = await table.TryGetAsync<UsageRow>(partitionKey, rowKey, cancellationToken).ConfigureAwait(false);
        return row is not null && row.Holds(stamp) ? row.ToTotals() : default;
    }
}
