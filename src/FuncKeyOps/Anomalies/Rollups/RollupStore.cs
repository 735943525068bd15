using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>What one <see cref="RollupStore.CompactAsync"/> wrote.</summary>
internal readonly record struct RollupCompaction(int Hours, int Days);

/// <summary>
/// The <c>rollups</c> table: cells per window, hour and day (partition <see cref="RollupPeriod.Id"/>, row key
/// <see cref="RollupCell.RowKey"/>), a marker per complete period (partition <c>marker</c>), and the hours and days
/// waiting to be compacted (partition <c>pending</c>).
/// </summary>
/// <remarks>
/// Every write overwrites: a period written again (a re-swept window, a compaction retried after a crash) replaces
/// its cells and drops the ones it no longer has, so nothing is counted twice. A period's marker is written last and
/// carries a digest of its cells; readers use a period only when it has a marker. A window whose content changed
/// removes the markers of its hour and day first and leaves its hour pending, so both are compacted again.
/// </remarks>
internal sealed class RollupStore(TableStore tables)
{
    internal const string MarkerPartition = "marker";
    internal const string PendingPartition = "pending";
    private const string DigestColumn = "Digest";
    private const string CellsColumn = "Cells";
    private const int MaxActionsPerTransaction = 100;

    // Partitions are independent; a few requests at once keep a compaction short without flooding the account.
    private const int ParallelRequests = 4;

    /// <summary>
    /// Writes the window's cells and then its marker. False when the window's marker already holds these very
    /// counts (written before): nothing is written again.
    /// </summary>
    public async Task<bool> WriteWindowAsync(WindowRollup rollup, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rollup);
        var table = await tables.GetTableAsync(TableNames.Rollups, cancellationToken).ConfigureAwait(false);
        return await WritePeriodAsync(table, RollupPeriod.Of(rollup.Window), rollup.Cells, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Compacts each pending hour whose 12 windows are all complete, then each pending day whose 24 hours are.
    /// Periods ending after <paramref name="now"/> are left for later. Safe to run again at any point.
    /// </summary>
    public async Task<RollupCompaction> CompactAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.Rollups, cancellationToken).ConfigureAwait(false);
        var hours = await CompactAsync(table, RollupLevel.Hour, now, cancellationToken).ConfigureAwait(false);
        var days = await CompactAsync(table, RollupLevel.Day, now, cancellationToken).ConfigureAwait(false);
        return new RollupCompaction(hours, days);
    }

    /// <summary>
    /// The starts of the complete periods of <paramref name="level"/> starting in [<paramref name="from"/>,
    /// <paramref name="to"/>): one row-key range of markers.
    /// </summary>
    public async Task<HashSet<DateTimeOffset>> CompleteAsync(
        RollupLevel level,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken = default)
    {
        var complete = new HashSet<DateTimeOffset>();
        var first = RollupPeriod.AtOrAfter(level, from);
        var end = RollupPeriod.AtOrAfter(level, to);
        if (first.Start >= end.Start)
            return complete;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {MarkerPartition} and RowKey ge {first.Id} and RowKey lt {end.Id}");
        await foreach (var marker in AuditQuery.ReadAsync(tables, TableNames.Rollups, filter, ["RowKey", DigestColumn], cancellationToken).ConfigureAwait(false))
        {
            if (RollupPeriod.TryParse(marker.RowKey, out var period) && period.Level == level && marker.GetString(DigestColumn) is not null)
                complete.Add(period.Start);
        }
        return complete;
    }

    /// <summary>
    /// The period's cells whose row keys fall in one of <paramref name="ranges"/> (all of them when none is given),
    /// filtered by the table service. Only meaningful for a period <see cref="CompleteAsync"/> returned.
    /// </summary>
    public async IAsyncEnumerable<RollupCell> ReadAsync(
        RollupPeriod period,
        IReadOnlyCollection<(string From, string To)> ranges,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {period.Id}");
        if (ranges.Count > 0)
            filter += " and (" + string.Join(" or ", ranges.Select(r => "(" + TableClient.CreateQueryFilter($"RowKey ge {r.From} and RowKey lt {r.To}") + ")")) + ")";
        await foreach (var entity in AuditQuery.ReadAsync(tables, TableNames.Rollups, filter, RollupCell.Columns, cancellationToken).ConfigureAwait(false))
        {
            if (RollupCell.FromEntity(entity) is { } cell)
                yield return cell;
        }
    }

    /// <summary>
    /// Writes a period's cells and then its marker, as a compaction does: what a backfill (or a test seeding a month)
    /// uses. The caller vouches that the cells are the period's whole counts.
    /// </summary>
    public async Task<bool> WritePeriodAsync(RollupPeriod period, IReadOnlyList<RollupCell> cells, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var table = await tables.GetTableAsync(TableNames.Rollups, cancellationToken).ConfigureAwait(false);
        return await WritePeriodAsync(table, period, cells, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> CompactAsync(TableClient table, RollupLevel level, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var prefix = RollupPeriod.IdOf(level, default)[..1];
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {PendingPartition} and RowKey ge {prefix} and RowKey lt {((char)(prefix[0] + 1)).ToString()}");
        var pending = new List<TableEntity>();
        // Whole rows (they hold nothing else): their ETags guard the deletes below.
        await foreach (var row in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken).ConfigureAwait(false))
            pending.Add(row);

        var compacted = 0;
        foreach (var row in pending.OrderBy(r => r.RowKey, StringComparer.Ordinal))
        {
            if (!RollupPeriod.TryParse(row.RowKey, out var period) || period.Level != level || period.End > now)
                continue;
            var parts = period.Parts();
            var complete = await CompleteAsync(parts[0].Level, period.Start, period.End, cancellationToken).ConfigureAwait(false);
            if (complete.Count < parts.Count)
                continue; // a part is still to be swept (or written again): this period stays pending
            var cells = await SumAsync(parts, cancellationToken).ConfigureAwait(false);
            await WritePeriodAsync(table, period, cells, cancellationToken).ConfigureAwait(false);
            compacted++;
            try
            {
                // Only if no part was written since it was read: a part written again meanwhile leaves it pending.
                await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
        }
        return compacted;
    }

    private async Task<List<RollupCell>> SumAsync(IEnumerable<RollupPeriod> parts, CancellationToken cancellationToken)
    {
        var sums = new Dictionary<string, RollupCell>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(
            parts,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (part, token) =>
            {
                var cells = new List<RollupCell>();
                await foreach (var cell in ReadAsync(part, [], token).ConfigureAwait(false))
                    cells.Add(cell);
                lock (sums)
                {
                    foreach (var cell in cells)
                    {
                        if (!sums.TryGetValue(cell.RowKey, out var sum))
                            sums[cell.RowKey] = sum = cell with { Counts = new RollupCounts() };
                        sum.Counts.Add(cell.Counts);
                    }
                }
            }).ConfigureAwait(false);
        return [.. sums.Values.OrderBy(c => c.RowKey, StringComparer.Ordinal)];
    }

    private async Task<bool> WritePeriodAsync(TableClient table, RollupPeriod period, IReadOnlyList<RollupCell> cells, CancellationToken cancellationToken)
    {
        var digest = Digest(cells);
        var marker = await table.TryGetAsync<TableEntity>(MarkerPartition, period.Id, cancellationToken).ConfigureAwait(false);
        if (marker?.GetString(DigestColumn) == digest)
            return false;

        // The period above is pending before anything it was built from changes, so a crash from here on still
        // leaves it to be compacted again.
        if (period.Parent is { } parent)
            await table.UpsertEntityAsync(new TableEntity(PendingPartition, parent.Id), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        // Markers built on the old content go first, the period's own last: until it is marked again it is read from
        // its parts (or raw rows), and a crash before its marker is written leaves it to be written again.
        for (var above = period.Parent; above is { } ancestor; above = ancestor.Parent)
            await table.DeleteEntityAsync(MarkerPartition, ancestor.Id, ETag.All, cancellationToken).ConfigureAwait(false);
        if (marker is not null)
            await table.DeleteEntityAsync(MarkerPartition, period.Id, ETag.All, cancellationToken).ConfigureAwait(false);

        var stale = new HashSet<string>(StringComparer.Ordinal);
        var existing = TableClient.CreateQueryFilter($"PartitionKey eq {period.Id}");
        await foreach (var row in table.QueryAsync<TableEntity>(existing, maxPerPage: 1000, ["RowKey"], cancellationToken).ConfigureAwait(false))
            stale.Add(row.RowKey);
        foreach (var cell in cells)
            stale.Remove(cell.RowKey);

        var actions = cells
            .Select(c => new TableTransactionAction(TableTransactionActionType.UpsertReplace, c.ToEntity(period.Id)))
            .Concat(stale.Select(rowKey => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(period.Id, rowKey), ETag.All)))
            .Chunk(MaxActionsPerTransaction);
        await Parallel.ForEachAsync(
            actions,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelRequests, CancellationToken = cancellationToken },
            async (chunk, token) =>
            {
                await table.SubmitTransactionAsync(chunk, token).ConfigureAwait(false);
            }).ConfigureAwait(false);

        await table.UpsertEntityAsync(
            new TableEntity(MarkerPartition, period.Id) { [DigestColumn] = digest, [CellsColumn] = cells.Count },
            TableUpdateMode.Replace,
            cancellationToken).ConfigureAwait(false);
        return true;
    }

    // What the period holds, in row-key order: a period written again with the same counts is recognised and left alone.
    private static string Digest(IReadOnlyList<RollupCell> cells)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var cell in cells.OrderBy(c => c.RowKey, StringComparer.Ordinal))
        {
            var c = cell.Counts;
            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{cell.RowKey}\u001f{cell.ProviderKey}\u001f{cell.Value}\u001f{c.Calls}\u001f{c.Errors}\u001f{c.ServerErrors}\u001f{c.InputTokens}\u001f{c.OutputTokens}\u001f{c.CostUsd}\n")));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
