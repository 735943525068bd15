using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Retention;

/// <summary>
/// The daily retention run, as a library call both hosts trigger (the Server host's <see cref="RetentionScheduleService"/>,
/// the Functions app's timer): drops the monthly audit tables older than <c>Audit:RetentionDays</c> and deletes findings,
/// rollups and baselines past their own ages (<see cref="RetentionOptions"/>). Only whole periods older than a cut-off go
/// (a month, a day, an hour), so nothing younger is touched. Every step is safe to repeat and to run on two instances at
/// once: what is already gone is skipped, and a baseline renewed meanwhile is kept.
/// </summary>
public sealed partial class RetentionJob(
    TableStore tables,
    AdminEventStore trail,
    IOptions<AuditOptions> audit,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<RetentionJob> logger)
{
    /// <summary>The admin trail's actor of a dropped audit table.</summary>
    public const string Actor = "retention";

    /// <summary>The admin trail's route of a dropped audit table (not an admin call: what one would be).</summary>
    public const string DropRoute = "audit-tables/{name}";

    private static readonly RollupLevel[] Levels = Enum.GetValues<RollupLevel>();

    /// <summary>
    /// One run. A step that fails does not stop the others; the run then throws them together once all have run, and the
    /// next run does what this one could not.
    /// </summary>
    public async Task<RetentionRun> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var auditCutoff = now - TimeSpan.FromDays(audit.Value.RetentionDays);
        var findingsCutoff = now - TimeSpan.FromDays(settings.FindingsDays);
        var rollupsCutoff = now - TimeSpan.FromDays(settings.RollupsDays);
        var baselinesCutoff = now - TimeSpan.FromDays(settings.BaselinesDays);

        var failures = new List<Exception>();
        async Task<T> StepAsync<T>(Func<Task<T>> step, T none)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures.Add(e);
                return none;
            }
        }

        var run = new RetentionRun
        {
            Time = now,
            AuditCutoff = auditCutoff,
            FindingsCutoff = findingsCutoff,
            RollupsCutoff = rollupsCutoff,
            BaselinesCutoff = baselinesCutoff,
            DroppedAuditTables = await StepAsync(() => DropAuditTablesAsync(auditCutoff, now, cancellationToken), []).ConfigureAwait(false),
            FindingsDeleted = await StepAsync(() => DeleteFindingsAsync(findingsCutoff, cancellationToken), 0).ConfigureAwait(false),
            RollupRowsDeleted = await StepAsync(() => DeleteRollupsAsync(rollupsCutoff, cancellationToken), 0).ConfigureAwait(false),
            BaselineRowsDeleted = await StepAsync(() => DeleteBaselinesAsync(baselinesCutoff, cancellationToken), 0).ConfigureAwait(false),
            KnownSourcesDeleted = await StepAsync(() => DeleteKnownSourcesAsync(now, cancellationToken), 0).ConfigureAwait(false),
        };
        LogRan(logger, run.DroppedAuditTables.Count, run.FindingsDeleted, run.RollupRowsDeleted, run.BaselineRowsDeleted, run.KnownSourcesDeleted);
        if (failures.Count > 0)
            throw new AggregateException("Retention: some steps failed; the next run tries them again.", failures);
        return run;
    }

    private async Task<IReadOnlyList<string>> DropAuditTablesAsync(DateTimeOffset cutoff, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var dropped = new List<string>();
        foreach (var (table, monthEnd) in await AuditTableRetention.ExpiredAsync(tables, cutoff, cancellationToken).ConfigureAwait(false))
        {
            if (!await AuditTableRetention.DropAsync(tables, table, cancellationToken).ConfigureAwait(false))
                continue; // gone already: whoever dropped it recorded it
            dropped.Add(table);
            LogDropped(logger, table, monthEnd, cutoff);
            await RecordAsync(table, now, cancellationToken).ConfigureAwait(false);
        }
        return dropped;
    }

    // Findings' partitions are their windows' days (yyyyMMdd, digits only): the checkpoint's and shadow cursors'
    // partitions (letters) sort after every digit and are never in the range.
    private async Task<int> DeleteFindingsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var firstKept = TableKeys.AnomalyPartition(cutoff); // the day holding the cut-off is partly younger: kept
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {"0"} and PartitionKey lt {firstKept}");
        return await RowPurge.DeleteAsync(Table(TableNames.Anomalies), filter, conditional: false, cancellationToken).ConfigureAwait(false);
    }

    // Per level, the periods that ended by the cut-off: markers first, so a period half deleted by a crash reads as
    // not compacted rather than as complete with cells missing; then pending compactions; then the cells.
    private async Task<int> DeleteRollupsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var table = Table(TableNames.Rollups);
        var deleted = 0;
        foreach (var level in Levels)
        {
            var first = RollupPeriod.IdOf(level, default)[..1];
            var firstKept = RollupPeriod.Containing(level, cutoff).Id;
            foreach (var partition in new[] { RollupStore.MarkerPartition, RollupStore.PendingPartition })
            {
                var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {first} and RowKey lt {firstKept}");
                deleted += await RowPurge.DeleteAsync(table, filter, conditional: false, cancellationToken).ConfigureAwait(false);
            }
            var cells = TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {firstKept}");
            deleted += await RowPurge.DeleteAsync(table, cells, conditional: false, cancellationToken).ConfigureAwait(false);
        }
        return deleted;
    }

    /// <summary>
    /// Known sources (<c>new_source</c>) last seen before the detector's horizon: they make nothing known any more. A day
    /// past it, so a window the sweep is still catching up on never loses a source it would count; deleted only if
    /// unchanged since read (the sweep may see the source again meanwhile).
    /// </summary>
    private async Task<int> DeleteKnownSourcesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - Anomalies.KnownSources.KnownSourceStore.Horizon - TimeSpan.FromDays(1);
        var filter = TableClient.CreateQueryFilter($"LastSeen lt {cutoff}");
        return await RowPurge.DeleteAsync(Table(TableNames.KnownSources), filter, conditional: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Baseline rows last computed for an hour before the cut-off, deleted only if unchanged since read (the sweep may
    /// renew one meanwhile). A subject left with no row computed since loses its first sighting too, so a key back
    /// after that long warms up again; the sighting goes first, and a crash after it leaves the stale rows to the next run.
    /// </summary>
    private async Task<int> DeleteBaselinesAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var table = Table(TableNames.Baselines);
        var stale = new List<TableEntity>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(BaselineRows($"Hour lt {cutoff}"), maxPerPage: 1000, RowPurge.KeysOnly, cancellationToken).ConfigureAwait(false))
                stale.Add(row);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0; // no baseline was ever written
        }
        if (stale.Count == 0)
            return 0;

        // Once a day, every hour's rows (keys only): which subjects still have a baseline computed since the cut-off.
        var live = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(BaselineRows($"Hour ge {cutoff}"), maxPerPage: 1000, RowPurge.KeysOnly, cancellationToken).ConfigureAwait(false))
            live.Add(row.RowKey);
        var deleted = 0;
        foreach (var subject in stale.Select(row => row.RowKey).Distinct(StringComparer.Ordinal).Where(subject => !live.Contains(subject)))
        {
            using var response = await table.DeleteEntityAsync(BaselineStore.SincePartition, subject, ETag.All, cancellationToken).ConfigureAwait(false);
            if (response.Status != 404)
                deleted++;
        }
        deleted += await RowPurge.DeleteRowsAsync(table, stale, conditional: true, cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    private static string BaselineRows(FormattableString condition) =>
        BaselineStore.HourPartitionsFilter + " and " + TableClient.CreateQueryFilter(condition);

    private async Task RecordAsync(string table, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var adminEvent = new AdminEvent
        {
            // Only the instance whose delete dropped the table gets here: one row per table.
            Id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tables.PhysicalName(table) + "|" + DropRoute)))[..32],
            Time = now,
            Actor = Actor,
            Method = "DELETE",
            Route = DropRoute,
            Target = table,
            Status = 204,
        };
        try
        {
            await trail.AppendAsync(adminEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException || StorageFailure.Is(e))
        {
            // The table is gone whatever the trail says; the log line above already names it.
            LogNotRecorded(logger, table, e.GetType().Name);
        }
    }

    // Reads and deletes never create a table: one that does not exist has nothing to remove.
    private TableClient Table(string logicalName) => tables.Service.GetTableClient(tables.PhysicalName(logicalName));

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention dropped audit table {Table}: its month ended {MonthEnd:O}, before the cut-off {Cutoff:O}")]
    private static partial void LogDropped(ILogger logger, string table, DateTimeOffset monthEnd, DateTimeOffset cutoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention: the admin trail row of dropped audit table {Table} was not stored ({ErrorType})")]
    private static partial void LogNotRecorded(ILogger logger, string table, string errorType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: {Tables} audit tables dropped, {Findings} findings, {Rollups} rollup rows, {Baselines} baseline rows and {KnownSources} known sources deleted")]
    private static partial void LogRan(ILogger logger, int tables, int findings, int rollups, int baselines, int knownSources);
}
