using System.Collections.Concurrent;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Anomalies.KnownSources;

/// <summary>
/// The sources (<see cref="SourceKey"/>) each relay key was seen from, learnt from every closed window before the
/// checkpoint moves past it, for <c>new_source</c>. Table <c>knownsources</c>: PartitionKey the relay key id, RowKey
/// the source (<see cref="KnownSourceRow"/>), with the window it was last seen in and the one before that.
/// </summary>
/// <remarks>
/// <para>
/// Reads: a key's whole partition once per sweep run, kept for the rest of the run. While a run holds the lease no
/// other instance teaches, and this store's own writes update what it keeps; a new run reads again, since another
/// instance may have swept windows meanwhile.
/// </para>
/// <para>
/// Writes are ETag-conditional (insert a new source, update a known one over the ETag read), so a write over a stale
/// read fails, is read again and retried, and last-seen only moves forward. A sighting is rewritten only once it is
/// <see cref="Refresh"/> old: a key seen from the same few addresses all day costs a write per source per hour, not
/// per window, at the price of a source expiring up to that much before its 30 days are over.
/// </para>
/// <para>
/// A window handed again (a run cut before its checkpoint write) must be judged as the first time: a source's
/// previous sighting is kept next to its last, so the window's own teaching never makes its sources known to itself.
/// </para>
/// </remarks>
internal sealed partial class KnownSourceStore(TableStore tables, ILogger<KnownSourceStore> logger) : IKnownSourceStore, IClosedWindowSink
{
    /// <summary>How far back a sighting makes a source known.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(30);
    internal static readonly TimeSpan Refresh = TimeSpan.FromHours(1);
    // Lost write races on one key in a row before the window's teaching fails (and the window is swept again).
    private const int MaxTries = 4;
    // Table Storage's most operations in one transaction.
    private const int MaxBatch = 100;
    // Keys taught at once: a busy window names thousands of keys, each its own partition and transaction.
    private const int Parallelism = 8;

    private readonly SemaphoreSlim _sync = new(1, 1);
    private readonly Dictionary<string, Dictionary<string, KnownSourceRow>> _keys = new(StringComparer.Ordinal);
    private string? _run;

    public ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, CancellationToken cancellationToken) =>
        GetAsync(relayKeyId, before, runId: "", cancellationToken);

    public async ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(relayKeyId);
        await _sync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // No run named (a caller outside the sweep): nothing kept is trusted.
            if (runId.Length == 0 || runId != _run)
            {
                _keys.Clear();
                _run = runId.Length == 0 ? null : runId;
            }
            var rows = await RowsAsync(relayKeyId, cancellationToken).ConfigureAwait(false);
            var since = before.Start - Horizon;
            return rows.Values.Where(r => r.SeenBetween(since, before.Start)).Select(r => r.Source).ToHashSet(StringComparer.Ordinal);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>Learns the closed window's sources of every relay key in it; the window's findings change nothing here.</summary>
    public async Task WriteAsync(WindowTally tally, IReadOnlyList<Finding> findings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        await _sync.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var table = await tables.GetTableAsync(TableNames.KnownSources, cancellationToken).ConfigureAwait(false);
            var work = tally.RelayKeys.Where(k => k.Value.CallsBySource.Count > 0).Select(k => (Id: k.Key, Sources: k.Value.CallsBySource.Keys.ToList())).ToList();
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken };
            // Each key is its own partition and its own task; what is kept is read, not changed, until all are done.
            var taught = new ConcurrentDictionary<string, Dictionary<string, KnownSourceRow>?>(StringComparer.Ordinal);
            await Parallel.ForEachAsync(work, parallel, async (key, ct) =>
                taught[key.Id] = await TeachAsync(table, key.Id, key.Sources, tally.Window, _keys.GetValueOrDefault(key.Id), ct).ConfigureAwait(false))
                .ConfigureAwait(false);
            foreach (var (id, rows) in taught)
            {
                if (rows is null)
                    _keys.Remove(id);
                else
                    _keys[id] = rows;
            }
        }
        catch
        {
            // What is kept may now be behind what was written: read again.
            _keys.Clear();
            throw;
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <param name="known">The key's rows as kept this run, or null when not read yet.</param>
    /// <returns>The key's rows as they stand after the teaching; null when they are not all known (read again).</returns>
    private async Task<Dictionary<string, KnownSourceRow>?> TeachAsync(TableClient table, string relayKeyId, List<string> sources, SweepWindow window,
        Dictionary<string, KnownSourceRow>? known, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            known ??= await ReadAsync(table, relayKeyId, cancellationToken).ConfigureAwait(false);
            var writes = new List<TableTransactionAction>();
            var written = new List<KnownSourceRow>();
            foreach (var source in sources)
            {
                if (known.TryGetValue(source, out var row))
                {
                    if (row.LastSeen > window.Start - Refresh)
                        continue;
                    var seen = row.SeenIn(window.Start);
                    written.Add(seen);
                    writes.Add(new TableTransactionAction(TableTransactionActionType.UpdateMerge, seen.ToEntity(), row.ETag));
                }
                else
                {
                    var added = KnownSourceRow.First(relayKeyId, source, window.Start);
                    written.Add(added);
                    writes.Add(new TableTransactionAction(TableTransactionActionType.Add, added.ToEntity()));
                }
            }
            try
            {
                foreach (var (chunk, rows) in writes.Chunk(MaxBatch).Zip(written.Chunk(MaxBatch)))
                {
                    var response = await table.SubmitTransactionAsync(chunk, cancellationToken).ConfigureAwait(false);
                    for (var i = 0; i < rows.Length; i++)
                    {
                        // Without its new ETag a row cannot be updated over what is kept: the key is read again when next needed.
                        if (response.Value[i].Headers.ETag is not { } etag)
                            return null;
                        known[rows[i].Source] = rows[i] with { ETag = etag };
                    }
                }
                return known;
            }
            catch (TableTransactionFailedException e) when (e.Status is 409 or 412 && attempt < MaxTries)
            {
                // Another writer got there (a cut run's instance, a stale read): read the key again and redo.
                LogRaceLost(logger, relayKeyId, e.Status);
                known = null;
            }
        }
    }

    private async Task<Dictionary<string, KnownSourceRow>> RowsAsync(string relayKeyId, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(relayKeyId, out var rows))
            return rows;
        var table = await tables.GetTableAsync(TableNames.KnownSources, cancellationToken).ConfigureAwait(false);
        return _keys[relayKeyId] = await ReadAsync(table, relayKeyId, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Dictionary<string, KnownSourceRow>> ReadAsync(TableClient table, string relayKeyId, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, KnownSourceRow>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {relayKeyId}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: KnownSourceRow.Columns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var row = KnownSourceRow.From(entity);
            rows[row.Source] = row;
        }
        return rows;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Known sources of relay key {RelayKeyId} changed under this write ({Status}); read again")]
    private static partial void LogRaceLost(ILogger logger, string relayKeyId, int status);
}
