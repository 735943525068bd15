using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Rotation;

/// <summary>
/// The <c>rotations</c> table: PartitionKey the key name, RowKey the rotation id (time-ordered). Beside a key's
/// rotation rows, one marker row (<see cref="CurrentRow"/>) names its unfinished rotation: a start inserts it, or
/// replaces it by ETag when the rotation it names has finished, so of two concurrent starts exactly one wins.
/// </summary>
public sealed class RotationStore(TableStore tables, TimeProvider time)
{
    /// <summary>The marker's RowKey; '~' sorts after every rotation id.</summary>
    internal const string CurrentRow = "~current";
    private const string MarkedId = "RotationId";
    private const int WriteAttempts = 5;

    /// <summary>A marker naming a row that was never written (a start that crashed in between) is stale after this.</summary>
    private static readonly TimeSpan UnwrittenStartLimit = TimeSpan.FromMinutes(1);

    /// <summary>Time-ordered, so a key's rotations list oldest first; the suffix keeps two starts in one millisecond apart.</summary>
    public static string NewId(DateTimeOffset now) =>
        now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];

    public async Task<RotationRecord?> GetAsync(string keyName, string id, CancellationToken cancellationToken = default)
    {
        if (id == CurrentRow)
            return null;
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<TableEntity>(keyName, id, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : RotationRows.FromEntity(entity);
    }

    /// <summary>
    /// The key's rotation started at or after <paramref name="since"/> with this <paramref name="trigger"/> and
    /// <paramref name="reason"/>, finished or not; null when there is none. For a caller whose start may have crashed
    /// before it learnt the outcome (the anomaly sweep: its reason is the finding id), so a retry never starts a second.
    /// </summary>
    public async Task<RotationRecord?> FindStartedAsync(string keyName, string trigger, string reason, DateTimeOffset since,
        CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        // Ids are time-ordered (NewId), so the key's rotations since then sort from since's prefix up to the marker row.
        var first = since.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {keyName} and RowKey ge {first} and RowKey lt {CurrentRow}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var record = RotationRows.FromEntity(entity);
            if (record.Trigger == trigger && record.Reason == reason)
                return record;
        }
        return null;
    }

    /// <summary>The key's unfinished rotation, or null.</summary>
    public async Task<RotationRecord?> GetUnfinishedAsync(string keyName, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        if (await table.TryGetAsync<TableEntity>(keyName, CurrentRow, cancellationToken).ConfigureAwait(false) is not { } marker)
            return null;
        var current = await GetAsync(keyName, marker.GetString(MarkedId) ?? "", cancellationToken).ConfigureAwait(false);
        return current is { IsFinal: false } ? current : null;
    }

    /// <summary>
    /// Writes a new rotation's row unless the key has an unfinished one. The marker is written first, so a crash
    /// between the two writes leaves a marker without a row, which a later start takes over once it is stale.
    /// </summary>
    /// <returns>Started, or the id of the rotation that runs (null when it could not be told).</returns>
    public async Task<(bool Started, string? RunningId)> TryStartAsync(RotationRecord record, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var won = false;
        for (var attempt = 0; attempt < WriteAttempts && !won; attempt++)
        {
            var marker = await table.TryGetAsync<TableEntity>(record.KeyName, CurrentRow, cancellationToken).ConfigureAwait(false);
            if (marker is null)
            {
                won = await table.TryInsertAsync(new TableEntity(record.KeyName, CurrentRow) { [MarkedId] = record.Id }, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var runningId = marker.GetString(MarkedId) ?? "";
            var running = await GetAsync(record.KeyName, runningId, cancellationToken).ConfigureAwait(false);
            if (running is { IsFinal: false })
                return (false, runningId);
            if (running is null && marker.Timestamp is { } written && time.GetUtcNow() - written < UnwrittenStartLimit)
                return (false, runningId); // another start is between its two writes
            marker[MarkedId] = record.Id;
            won = await table.TryReplaceAsync(marker, cancellationToken).ConfigureAwait(false);
        }
        if (!won)
            return (false, null);
        await table.AddEntityAsync(RotationRows.ToNewEntity(record), cancellationToken).ConfigureAwait(false);
        return (true, record.Id);
    }

    /// <summary>Writes a step's progress if the row still has the ETag <paramref name="record"/> was read with; false when it changed.</summary>
    internal async Task<bool> TrySaveProgressAsync(RotationRecord record, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await table.UpdateEntityAsync(RotationRows.ToProgressEntity(record), record.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }
    }

    /// <summary>Sets <see cref="RotationColumns.AbortRequested"/> on an unfinished rotation; returns the row as it is after, null when absent.</summary>
    public async Task<RotationRecord?> RequestAbortAsync(string keyName, string id, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await GetAsync(keyName, id, cancellationToken).ConfigureAwait(false) is not { } record)
                return null;
            if (record.IsFinal || record.AbortRequested)
                return record;
            try
            {
                await table.UpdateEntityAsync(new TableEntity(keyName, id) { [RotationColumns.AbortRequested] = true }, record.ETag,
                    TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
                return record with { AbortRequested = true };
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
        }
        throw new InvalidOperationException($"The rotation {keyName}/{id} kept changing while its abort was recorded.");
    }

    /// <summary>Frees the key for the next rotation once this one is final (a marker naming a final row is free anyway).</summary>
    internal async Task ReleaseAsync(RotationRecord record, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        if (await table.TryGetAsync<TableEntity>(record.KeyName, CurrentRow, cancellationToken).ConfigureAwait(false) is not { } marker
            || marker.GetString(MarkedId) != record.Id)
            return;
        try
        {
            await table.DeleteEntityAsync(record.KeyName, CurrentRow, marker.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            // A new start took the marker over, or it is already gone.
        }
    }

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => tables.GetTableAsync(TableNames.Rotations, cancellationToken);
}
