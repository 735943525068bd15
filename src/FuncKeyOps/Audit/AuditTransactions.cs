using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Logging;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Audit;

/// <summary>One entity-group transaction's worth of rows: one table, one partition, at most 100 rows.</summary>
/// <remarks><see cref="Records"/> are the rows' records, index for index, so what is not stored can go to the spill.</remarks>
internal sealed record AuditChunk(string Table, List<TableEntity> Entities, List<AuditRecord> Records)
{
    /// <summary>Set once an attempt failed (it may have committed) or found a row present: later attempts replace rows.</summary>
    public bool Upsert { get; set; }
}

/// <summary>Turns a batch of records into transactions and writes them; the caller decides when to retry.</summary>
internal sealed partial class AuditTransactions(
    TableStore tables,
    int shards,
    SecretRedactor redactor,
    ILogger logger,
    Counter<long> stored,
    Action onRejected)
{
    private const int MaxActionsPerTransaction = 100;

    // Partitions are independent; a few transactions in flight keep a backlog moving without flooding the account.
    private const int ParallelTransactions = 4;

    /// <summary>
    /// Groups rows by table and partition. A second record for the same request replaces the first, as the
    /// upsert would (a transaction may not touch one row twice); <c>Superseded</c> counts those.
    /// </summary>
    public (List<AuditChunk> Chunks, int Superseded) Prepare(IEnumerable<AuditRecord> records)
    {
        var partitions = new Dictionary<(string Table, string PartitionKey), Dictionary<string, (TableEntity Entity, AuditRecord Record)>>();
        var superseded = 0;
        foreach (var record in records)
        {
            var entity = AuditEntity.ToEntity(record, shards, redactor);
            var key = (TableNames.Audit(record.Time), entity.PartitionKey);
            if (!partitions.TryGetValue(key, out var rows))
                partitions[key] = rows = new Dictionary<string, (TableEntity, AuditRecord)>(StringComparer.Ordinal);
            if (rows.ContainsKey(entity.RowKey))
                superseded++;
            rows[entity.RowKey] = (entity, record);
        }

        var chunks = new List<AuditChunk>();
        foreach (var ((table, _), rows) in partitions)
        {
            foreach (var part in rows.Values.Chunk(MaxActionsPerTransaction))
                chunks.Add(new AuditChunk(table, [.. part.Select(p => p.Entity)], [.. part.Select(p => p.Record)]));
        }
        return (chunks, superseded);
    }

    /// <summary>Writes every chunk once. Returns the chunks to retry and one of the errors, for the log.</summary>
    public async Task<(List<AuditChunk> Failed, Exception? Error)> WriteAsync(List<AuditChunk> chunks, CancellationToken cancellationToken)
    {
        var failed = new ConcurrentQueue<AuditChunk>();
        Exception? firstError = null;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = ParallelTransactions, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(chunks, parallel, async (chunk, token) =>
        {
            var error = await TryWriteAsync(chunk, token).ConfigureAwait(false);
            if (error is not null && chunk.Entities.Count > 0)
            {
                chunk.Upsert = true;
                failed.Enqueue(chunk);
                Interlocked.CompareExchange(ref firstError, error, null);
            }
        }).ConfigureAwait(false);
        return ([.. failed], firstError);
    }

    // A first attempt inserts: on Azurite an upsert looks the row up twice (a scan of its partition each time),
    // an insert once. Every later attempt upserts, so a retry of a transaction that did commit (but whose
    // answer was lost) changes nothing, and a request id written again replaces its row.
    private async Task<Exception?> TryWriteAsync(AuditChunk chunk, CancellationToken cancellationToken)
    {
        try
        {
            var table = await tables.GetTableAsync(chunk.Table, cancellationToken).ConfigureAwait(false);
            var action = chunk.Upsert ? TableTransactionActionType.UpsertReplace : TableTransactionActionType.Add;
            await table.SubmitTransactionAsync(
                chunk.Entities.Select(e => new TableTransactionAction(action, e)),
                cancellationToken).ConfigureAwait(false);
            stored.Add(chunk.Entities.Count);
            return null;
        }
        catch (TableTransactionFailedException e) when (e.Status == 409 && !chunk.Upsert)
        {
            // A row of this chunk exists already (its id was written before): nothing committed, so upsert now.
            chunk.Upsert = true;
            return await TryWriteAsync(chunk, cancellationToken).ConfigureAwait(false);
        }
        catch (TableTransactionFailedException e) when (e.Status is 400 or 413
            && e.FailedTransactionActionIndex is int index && index < chunk.Entities.Count)
        {
            // The service refuses this row and would refuse it on every retry: drop it (counted) so it
            // does not hold up the rest of its partition.
            var row = chunk.Entities[index];
            chunk.Entities.RemoveAt(index);
            chunk.Records.RemoveAt(index);
            LogRejected(logger, AuditKeys.FromRowKey(row.RowKey), e.ErrorCode, e.Status);
            onRejected();
            return e;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The month's table was deleted under us (a retention drop while it was still written to).
            await RecreateAsync(chunk.Table, cancellationToken).ConfigureAwait(false);
            return e;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return e;
        }
    }

    private async Task RecreateAsync(string logicalName, CancellationToken cancellationToken)
    {
        try
        {
            await tables.Service.GetTableClient(tables.PhysicalName(logicalName))
                .CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogRecreateFailed(logger, logicalName, (e as RequestFailedException)?.Status);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Table Storage rejected audit row {RequestId} ({ErrorCode}, status {Status}); it is dropped")]
    private static partial void LogRejected(ILogger logger, string requestId, string? errorCode, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recreating audit table {Table} failed (status {Status}); retrying later")]
    private static partial void LogRecreateFailed(ILogger logger, string table, int? status);
}
