using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// Which hours of a provider key were judged, one row per key in the <c>anomalies</c> table under the partition
/// <see cref="Partition"/>: the end of the hours judged once settled and of those judged again at 24 h. Each hour is so
/// read twice, not every sweep. A row moves only forward and only by an ETag-guarded write, so two instances judging
/// at once both write the same findings (deterministic ids) and one of them moves the row.
/// </summary>
internal sealed class ShadowCursors(TableStore tables)
{
    public const string Partition = "shadow";

    public async Task<ShadowCursor?> ReadAsync(string keyName, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        return await table.TryGetAsync<ShadowCursor>(Partition, keyName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes <paramref name="next"/> if the row is still as read (<paramref name="read"/>, null when there was none).
    /// False when another run moved it first: that run judged the same hours, so nothing is lost.
    /// </summary>
    public async Task<bool> TryAdvanceAsync(ShadowCursor? read, ShadowCursor next, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        if (read is null)
            return await table.TryInsertAsync(next, cancellationToken).ConfigureAwait(false);
        next.ETag = read.ETag;
        return await table.TryReplaceAsync(next, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>One provider key's judged hours: every hour before <see cref="SettledThrough"/> was judged settled, every one before <see cref="RejudgedThrough"/> again at 24 h.</summary>
internal sealed class ShadowCursor : ITableEntity
{
    public string PartitionKey { get; set; } = ShadowCursors.Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset SettledThrough { get; set; }
    public DateTimeOffset RejudgedThrough { get; set; }

    public static ShadowCursor For(string keyName, DateTimeOffset settledThrough, DateTimeOffset rejudgedThrough) => new()
    {
        RowKey = keyName,
        SettledThrough = settledThrough,
        RejudgedThrough = rejudgedThrough,
    };
}
