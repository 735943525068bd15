using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Rotation.Server;

/// <summary>
/// Leases on <c>rotations</c> rows, so that of several Server instances exactly one runs a rotation's next step. A lease
/// is two columns (<see cref="RotationColumns.LeaseOwner"/>, <see cref="RotationColumns.LeaseUntil"/>) merged with the
/// row's ETag: of two drivers that read the same free row, the second write is refused (412), so it moves on. The step
/// runner's columns are never written here, and its writes change the ETag, which is why every renewal reads the row
/// again first. A driver that dies simply stops renewing; the row is free again when its lease runs out.
/// </summary>
public sealed class RotationLeases(TableStore tables)
{
    // Both writers merge with the ETag they read: a conflict with the step runner's write is retried on a fresh read.
    private const int WriteAttempts = 5;

    // The keys too: a projection leaves out whatever it does not name.
    private static readonly string[] Columns =
        [nameof(TableEntity.PartitionKey), nameof(TableEntity.RowKey), RotationColumns.Status, RotationColumns.StepIndex, RotationColumns.NextDue, RotationColumns.LeaseOwner, RotationColumns.LeaseUntil, RotationColumns.LeaseFence];

    // Only rotation rows have a Status: rows without one (markers kept in the same table) never match.
    private static readonly string RunningFilter = $"{RotationColumns.Status} eq '{nameof(RotationStatus.Running)}'";

    /// <summary>Every running rotation, leased or not, due or not. Rows lacking the driver's columns are left out.</summary>
    public async Task<IReadOnlyList<RotationRowState>> ListRunningAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken).ConfigureAwait(false);
        var rows = new List<RotationRowState>();
        await foreach (var entity in table.QueryAsync<TableEntity>(RunningFilter, select: Columns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (Read(entity) is { } row)
                rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Running rows that no live driver holds and whose step is due, or that are named in <paramref name="runNow"/> (a
    /// start or an abort signalled to this instance, which should not wait out the row's hold); the longest waiting first.
    /// </summary>
    public async Task<IReadOnlyList<RotationRowState>> FindDueAsync(DateTimeOffset now, IReadOnlyCollection<RotationId> runNow, CancellationToken cancellationToken) =>
        (await ListRunningAsync(cancellationToken).ConfigureAwait(false))
            .Where(r => r.IsLeaseFree(now) && (r.IsDue(now) || runNow.Contains(r.Rotation)))
            .OrderBy(r => r.NextDue)
            .ToList();

    public async Task<RotationRowState?> GetAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken).ConfigureAwait(false);
        var response = await table.GetEntityIfExistsAsync<TableEntity>(rotation.KeyName, rotation.Id, Columns, cancellationToken).ConfigureAwait(false);
        return response.HasValue ? Read(response.Value!) : null;
    }

    /// <summary>
    /// Takes the row as it was read: succeeds only if nobody wrote it since (the ETag), so two drivers racing for the
    /// same row cannot both win. Null when another driver (or the step runner) got there first, or the row is gone.
    /// The lease gets the next fence token (<see cref="RotationColumns.LeaseFence"/>), which its steps write under.
    /// </summary>
    public async Task<RotationRowState?> TryAcquireAsync(RotationRowState row, string owner, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken).ConfigureAwait(false);
        var fence = row.Fence + 1;
        var etag = await TryMergeLeaseAsync(table, row, owner, until, cancellationToken, fence).ConfigureAwait(false);
        return etag is { } written ? row with { LeaseOwner = owner, LeaseUntil = until, ETag = written, Fence = fence } : null;
    }

    /// <summary>
    /// Extends this owner's lease to <paramref name="until"/> and returns the row as it now stands (the step runner has
    /// usually moved it on). Null when the row is gone or another driver holds it: the lease was lost, so stop driving it.
    /// </summary>
    public async Task<RotationRowState?> RenewAsync(RotationId rotation, string owner, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await GetAsync(rotation, cancellationToken).ConfigureAwait(false) is not { } row || !row.IsHeldBy(owner))
                return null;
            if (await TryMergeLeaseAsync(table, row, owner, until, cancellationToken).ConfigureAwait(false) is { } etag)
                return row with { LeaseUntil = until, ETag = etag };
        }
        throw new InvalidOperationException($"The rotation {rotation} kept changing while its lease was renewed.");
    }

    /// <summary>Frees the row if this owner still holds it, so any driver may run its next step when due. False when it did not hold it.</summary>
    public async Task<bool> ReleaseAsync(RotationId rotation, string owner, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await GetAsync(rotation, cancellationToken).ConfigureAwait(false) is not { } row || !row.IsHeldBy(owner))
                return false;
            if (await TryMergeLeaseAsync(table, row, owner: string.Empty, until: DateTimeOffset.UnixEpoch, cancellationToken).ConfigureAwait(false) is not null)
                return true;
        }
        throw new InvalidOperationException($"The rotation {rotation} kept changing while its lease was released.");
    }

    /// <returns>The row's new ETag, or null when the row changed since it was read (412) or is gone (404).</returns>
    private static async Task<ETag?> TryMergeLeaseAsync(TableClient table, RotationRowState row, string owner, DateTimeOffset until, CancellationToken cancellationToken,
        long? fence = null)
    {
        var lease = new TableEntity(row.Rotation.KeyName, row.Rotation.Id)
        {
            [RotationColumns.LeaseOwner] = owner,
            [RotationColumns.LeaseUntil] = until,
        };
        if (fence is { } token)
            lease[RotationColumns.LeaseFence] = token;
        try
        {
            var response = await table.UpdateEntityAsync(lease, row.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag;
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            return null;
        }
    }

    private static RotationRowState? Read(TableEntity entity)
    {
        if (!Enum.TryParse<RotationStatus>(entity.GetString(RotationColumns.Status), ignoreCase: false, out var status)
            || ReadInt(entity, RotationColumns.StepIndex) is not { } stepIndex)
            return null;
        return new RotationRowState(
            new RotationId(entity.PartitionKey, entity.RowKey),
            status,
            stepIndex,
            ReadTime(entity, RotationColumns.NextDue),
            entity.TryGetValue(RotationColumns.LeaseOwner, out var owner) ? owner as string : null,
            ReadTime(entity, RotationColumns.LeaseUntil),
            entity.ETag,
            entity.TryGetValue(RotationColumns.LeaseFence, out var fence) ? fence switch { long l => l, int i => i, _ => 0 } : 0);
    }

    // Lenient about the stored type: a column written by another writer as Int64 (or DateTime) still reads.
    private static int? ReadInt(TableEntity entity, string column) => entity.TryGetValue(column, out var value) ? value switch
    {
        int i => i,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        _ => null,
    } : null;

    private static DateTimeOffset? ReadTime(TableEntity entity, string column) => entity.TryGetValue(column, out var value) ? value switch
    {
        DateTimeOffset time => time,
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        _ => null,
    } : null;
}
