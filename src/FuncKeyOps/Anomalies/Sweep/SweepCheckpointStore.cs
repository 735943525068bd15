using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// Reads and writes the sweep's checkpoint row (<see cref="Partition"/>/<see cref="Row"/> of the <c>anomalies</c> table,
/// a partition no finding uses: findings are under their day). The lease is part of the row, so taking it, moving the
/// checkpoint and letting go are each one ETag-conditional write: of two instances only one can hold the row, and an
/// instance that was paused past its lease finds the ETag changed and writes nothing.
/// </summary>
public sealed class SweepCheckpointStore(TableStore tables)
{
    public const string Partition = "sweep";
    public const string Row = "checkpoint";

    /// <summary>Warnings kept on the row: enough to read, bounded so a row never nears the entity size limit.</summary>
    internal const int MaxWarnings = 20;
    private const int MaxWarningLength = 300;

    private static class Columns
    {
        public const string LastWindow = "LastWindow";
        public const string LeaseOwner = "LeaseOwner";
        public const string LeaseUntil = "LeaseUntil";
        public const string LastRunAt = "LastRunAt";
        public const string LastRunSeconds = "LastRunSeconds";
        public const string LastRunRows = "LastRunRows";
        public const string LastRunWindows = "LastRunWindows";
        public const string LastRunFindings = "LastRunFindings";
        public const string LastRunLagSeconds = "LastRunLagSeconds";
        public const string Warnings = "Warnings";
    }

    /// <summary>The row as it stands; null before any run.</summary>
    public async Task<SweepCheckpoint?> ReadAsync(CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<TableEntity>(Partition, Row, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : FromEntity(entity);
    }

    /// <summary>
    /// Takes the sweep for <paramref name="owner"/> until <paramref name="until"/> unless someone else holds it now; on
    /// the very first run, the row is created with <paramref name="firstLastWindow"/> as the window before the first to
    /// sweep. Null when another instance holds it or won the race for it.
    /// </summary>
    public async Task<SweepCheckpoint?> TryAcquireAsync(string owner, DateTimeOffset now, DateTimeOffset until, SweepWindow firstLastWindow, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        if (current is null)
        {
            var created = new SweepCheckpoint { LastWindow = firstLastWindow, LeaseOwner = owner, LeaseUntil = until };
            var entity = ToEntity(created);
            return await table.TryInsertAsync(entity, cancellationToken).ConfigureAwait(false) ? created with { ETag = entity.ETag } : null;
        }
        if (current.IsLeasedAt(now) && current.LeaseOwner != owner)
            return null;
        return await TryWriteAsync(table, current with { LeaseOwner = owner, LeaseUntil = until }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes <paramref name="next"/> over the row read as <paramref name="held"/> (its ETag): a moved checkpoint, a
    /// renewed lease, the run's figures or a released lease. Null when the row changed since: the lease is lost.
    /// </summary>
    public async Task<SweepCheckpoint?> TryReplaceAsync(SweepCheckpoint held, SweepCheckpoint next, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        return await TryWriteAsync(table, next with { ETag = held.ETag }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<SweepCheckpoint?> TryWriteAsync(TableClient table, SweepCheckpoint row, CancellationToken cancellationToken)
    {
        var entity = ToEntity(row);
        entity.ETag = row.ETag;
        try
        {
            return await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false) ? row with { ETag = entity.ETag } : null;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null; // the row was deleted under it: whoever did so owns what happens next
        }
    }

    private static TableEntity ToEntity(SweepCheckpoint row)
    {
        var entity = new TableEntity(Partition, Row)
        {
            [Columns.LeaseOwner] = row.LeaseOwner ?? "",
            [Columns.LastRunRows] = row.LastRunRows,
            [Columns.LastRunWindows] = row.LastRunWindows,
            [Columns.LastRunFindings] = row.LastRunFindings,
            [Columns.Warnings] = JsonSerializer.Serialize(row.Warnings.Take(MaxWarnings)
                .Select(w => w.Length <= MaxWarningLength ? w : w[..MaxWarningLength])),
        };
        if (row.LastWindow is { } window)
            entity[Columns.LastWindow] = window.Id;
        if (row.LeaseUntil is { } until)
            entity[Columns.LeaseUntil] = until;
        if (row.LastRunAt is { } at)
            entity[Columns.LastRunAt] = at;
        if (row.LastRunDuration is { } duration)
            entity[Columns.LastRunSeconds] = duration.TotalSeconds;
        if (row.LastRunLag is { } lag)
            entity[Columns.LastRunLagSeconds] = lag.TotalSeconds;
        return entity;
    }

    private static SweepCheckpoint FromEntity(TableEntity entity)
    {
        var warnings = entity.GetString(Columns.Warnings) is { Length: > 0 } json
            ? JsonSerializer.Deserialize<List<string>>(json) ?? []
            : [];
        return new SweepCheckpoint
        {
            LastWindow = SweepWindow.TryParse(entity.GetString(Columns.LastWindow), out var window) ? window : null,
            LeaseOwner = entity.GetString(Columns.LeaseOwner) is { Length: > 0 } owner ? owner : null,
            LeaseUntil = entity.GetDateTimeOffset(Columns.LeaseUntil),
            LastRunAt = entity.GetDateTimeOffset(Columns.LastRunAt),
            LastRunDuration = entity.GetDouble(Columns.LastRunSeconds) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            LastRunRows = entity.GetInt64(Columns.LastRunRows) ?? 0,
            LastRunWindows = entity.GetInt32(Columns.LastRunWindows) ?? 0,
            LastRunFindings = entity.GetInt32(Columns.LastRunFindings) ?? 0,
            LastRunLag = entity.GetDouble(Columns.LastRunLagSeconds) is { } lag ? TimeSpan.FromSeconds(lag) : null,
            Warnings = warnings,
            ETag = entity.ETag,
        };
    }
}
