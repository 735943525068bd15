using Azure;
using Azure.Data.Tables;

namespace FuncKeyOps.Retention;

/// <summary>
/// Deletes the rows a filter matches, a page at a time: keys only are read, and each partition's rows go in
/// transactions of up to 100. Safe to run twice and beside another instance doing the same: a transaction that finds a
/// row gone (404) or changed (412) is repeated row by row, and those rows are left as they are.
/// </summary>
internal static class RowPurge
{
    private const int MaxActionsPerTransaction = 100;
    private const int ParallelRequests = 4;
    internal static readonly string[] KeysOnly = ["PartitionKey", "RowKey"];

    /// <param name="conditional">
    /// Delete a row only if unchanged since it was read (its ETag): for rows a writer may renew meanwhile. Otherwise
    /// unconditionally, for rows no one writes again once they are old.
    /// </param>
    /// <returns>How many rows this call deleted.</returns>
    public static async Task<int> DeleteAsync(TableClient table, string filter, bool conditional, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await using var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, KeysOnly, cancellationToken).AsPages()
            .GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    break;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                break; // the table was never created: nothing to delete
            }
            deleted += await DeleteRowsAsync(table, pages.Current.Values, conditional, cancellationToken).ConfigureAwait(false);
        }
        return deleted;
    }

    /// <summary>Deletes these rows (read with their keys and ETags), each partition's in transactions; how many this call deleted.</summary>
    public static async Task<int> DeleteRowsAsync(TableClient table, IEnumerable<TableEntity> rows, bool conditional, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await Parallel.ForEachAsync(
            rows.GroupBy(row => row.PartitionKey, StringComparer.Ordinal).SelectMany(partition => partition.Chunk(MaxActionsPerTransaction)),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (batch, token) =>
            {
                var count = await DeleteBatchAsync(table, batch, conditional, token).ConfigureAwait(false);
                Interlocked.Add(ref deleted, count);
            }).ConfigureAwait(false);
        return deleted;
    }

    private static async Task<int> DeleteBatchAsync(TableClient table, TableEntity[] rows, bool conditional, CancellationToken cancellationToken)
    {
        try
        {
            await table.SubmitTransactionAsync(
                rows.Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, conditional ? row.ETag : ETag.All)),
                cancellationToken).ConfigureAwait(false);
            return rows.Length;
        }
        catch (TableTransactionFailedException e) when (e.Status is 404 or 412)
        {
            // Another instance got to one of them, or a writer renewed one: the transaction did nothing; row by row the
            // others still go.
        }
        var deleted = 0;
        foreach (var row in rows)
        {
            try
            {
                using var response = await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, conditional ? row.ETag : ETag.All, cancellationToken)
                    .ConfigureAwait(false);
                if (response.Status != 404)
                    deleted++;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        }
        return deleted;
    }
}
