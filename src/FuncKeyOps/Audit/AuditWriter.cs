using System.Diagnostics.Metrics;
using System.Threading.Channels;
using FuncKeyOps.Logging;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Audit;

/// <summary>
/// The relay's <see cref="IAuditSink"/>: <see cref="Enqueue"/> only queues, and a background loop writes the
/// rows to the monthly audit table in entity-group transactions. While Table Storage fails, rows stay in memory
/// (at most <see cref="AuditOptions.Capacity"/>) and are retried with capped exponential backoff; rows beyond
/// that go to the <see cref="AuditSpill"/> on local disk, which the loop replays once storage answers (also
/// after a restart). On shutdown what is buffered is written if storage answers at once, else spilled.
/// </summary>
public sealed partial class AuditWriter : BackgroundService, IAuditSink
{
    // Rows taken from the queue per write cycle: enough to fill transactions, small next to Capacity.
    private const int CycleSize = 1000;

    // Flush markers get slots of their own so that a queue full of rows never refuses one.
    private const int FlushHeadroom = 1024;

    // After a stop is asked, storage gets this long; what it has not taken by then is spilled rather than
    // holding up shutdown on storage that may be gone (and rows are kept, unlike after the host's timeout).
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly AuditTransactions _transactions;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditWriter> _logger;
    private readonly Channel<Work> _queue;
    private readonly Counter<long> _droppedCounter;
    private readonly Lazy<AuditSpill?> _spill;
    private readonly CancellationTokenSource _stopWrites = new();
    private ITimer? _stopTimer;
    private volatile bool _spillRest;
    private long _pending;
    private long _dropped;
    private long _droppedBeforeBurst;
    private long _abandoned;
    private int _inDropBurst;
    private int _refusing;
    private volatile bool _closed;
    private TaskCompletionSource _wake = NewSignal();

    /// <summary>The meter of the audit backlog (<c>funckeyops.audit.pending</c>) and its drops.</summary>
    public const string MeterName = "FuncKeyOps.Audit";

    public AuditWriter(
        TableStore tables,
        IOptions<AuditOptions> options,
        TimeProvider time,
        SecretRedactor redactor,
        IMeterFactory meters,
        ILogger<AuditWriter> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(_options.Capacity + FlushHeadroom)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
        // Opened on first need (start-up, or a full buffer before that): it takes a lock and reads the disk.
        _spill = new Lazy<AuditSpill?>(() => AuditSpill.Open(_options, _logger), LazyThreadSafetyMode.ExecutionAndPublication);
        var meter = meters.Create(MeterName);
        _droppedCounter = meter.CreateCounter<long>("funckeyops.audit.dropped", "{row}", "Audit rows that will never be stored.");
        var stored = meter.CreateCounter<long>("funckeyops.audit.stored", "{row}", "Audit rows written to Table Storage.");
        meter.CreateObservableUpDownCounter("funckeyops.audit.pending", () => PendingCount, "{row}", "Audit rows accepted and not yet stored.");
        meter.CreateObservableGauge("funckeyops.audit.spill_bytes", () => _spill.IsValueCreated ? _spill.Value?.Bytes ?? 0 : 0, "By", "Bytes of audit rows in the spill file, waiting for Table Storage.");
        _transactions = new AuditTransactions(tables, _options.Shards, redactor, logger, stored, OnRejected);
    }

    /// <summary>Rows accepted and not yet stored (queued, in flight, in the spill, or waiting for Table Storage to come back).</summary>
    public long PendingCount => Interlocked.Read(ref _pending) + (_spill.IsValueCreated ? _spill.Value?.Rows ?? 0 : 0);

    /// <summary>Rows that will never be stored: refused while buffer and spill were full or after shutdown, unreadable in the spill, or rejected by the service.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>The spill folder this process holds, or null without a spill; for logs and tests.</summary>
    public string? SpillFolder => _spill.Value?.Folder;

    /// <inheritdoc />
    /// <remarks>
    /// Room in memory, or below the spill limit: the reserve beyond it is kept for the rows of refused calls, so a
    /// refusal is itself audited. Healthy storage costs one read and compare; the spill is looked at only when full.
    /// </remarks>
    public bool HasRoom =>
        _options.WhenFull == AuditWhenFull.Drop
        || Interlocked.Read(ref _pending) < _options.Capacity
        || SpillHasRoom();

    // Memory is full: from here on (and only here) the spill is looked at; the first refusal of a burst is logged.
    private bool SpillHasRoom()
    {
        if (_spill.Value?.HasRoom == true)
            return true;
        if (Interlocked.CompareExchange(ref _refusing, 1, 0) == 0)
        {
            try
            {
                LogRefusing(_logger, _options.Capacity, _options.SpillLimitBytes);
            }
            catch (Exception)
            {
                // As in Drop: this runs on the request path and must not throw.
            }
        }
        return false;
    }

    /// <summary>Never blocks and never throws: when the buffer is full the row is spilled, or dropped and counted.</summary>
    public void Enqueue(AuditRecord record)
    {
        if (record is null)
            return;
        // The oldest rows are kept: they are already accepted and the sweeps read the earliest windows first.
        if (Interlocked.Increment(ref _pending) <= _options.Capacity && _queue.Writer.TryWrite(new Work(record, null)))
            return;
        Interlocked.Decrement(ref _pending);
        if (TrySpill(record))
            return;
        Drop(_closed ? "stopped" : "full", 1);
    }

    /// <summary>Completes when every row enqueued before the call is stored (or rejected by the service).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = NewSignal();
        try
        {
            await _queue.Writer.WriteAsync(new Work(null, done), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // Stopping: the loop writes what is queued and then ends.
            if (ExecuteTask is { } loop)
                await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (PendingCount + Interlocked.Read(ref _abandoned) is > 0 and var left)
                throw new InvalidOperationException($"The audit writer has stopped with {left} rows not stored.");
            return;
        }
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _ = _spill.Value; // finds what an earlier process left, so the loop replays it from the start
        return base.StartAsync(cancellationToken);
    }

    /// <summary>
    /// Stops accepting rows and writes what is buffered; what storage has not taken within a short grace goes to
    /// the spill. Without a spill it gives up when <paramref name="cancellationToken"/> (the host's shutdown timeout) fires.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Close();
        if (_spill.Value is not null)
            _stopTimer ??= _time.CreateTimer(_ => CancelStopWrites(), null, StopGrace, Timeout.InfiniteTimeSpan);
        // Storage may be back already: retry now rather than sit out the rest of a backoff during shutdown.
        Volatile.Read(ref _wake).TrySetResult();
        if (ExecuteTask is { } loop)
        {
            try
            {
                await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Out of time: base.StopAsync cancels the loop, which counts what it could not write.
            }
        }
        else
        {
            Abandon([], []);
        }
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_spill.Value is { } spill)
        {
            spill.Dispose();
            if (spill.Rows > 0)
                LogLeftInSpill(_logger, spill.Rows, spill.Folder);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _stopTimer?.Dispose();
        if (_spill.IsValueCreated)
            _spill.Value?.Dispose();
        _stopWrites.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditRecord>(CycleSize);
        var flushes = new List<TaskCompletionSource>();
        AuditSpillSegment? replay = null;
        using var writes = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopWrites.Token);
        try
        {
            while (true)
            {
                // With spilled rows waiting the loop does not sit on an empty queue: it replays them.
                if (ReplayDue)
                    Take(batch, flushes);
                else if (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
                    await CollectAsync(batch, flushes, stoppingToken).ConfigureAwait(false);
                else
                    break;
                var stored = await StoreAsync(batch, fromSpill: false, writes.Token).ConfigureAwait(false);
                batch.Clear();
                // A flush waits for the spill too: rows enqueued before it may be in any segment up to the newest.
                var upTo = flushes.Count > 0 ? _spill.Value?.NewestSegment ?? -1 : -1;
                (replay, var replayed) = await ReplayAsync(replay, upTo, writes.Token).ConfigureAwait(false);
                EndDropBurstIfRoom();
                EndRefusalsIfRoom();
                foreach (var flush in flushes)
                {
                    if (stored && replayed)
                        flush.TrySetResult();
                    else
                        flush.TrySetException(new InvalidOperationException("The audit writer stopped with rows in the spill; the next process on this machine stores them."));
                }
                flushes.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested || _stopWrites.IsCancellationRequested)
        {
            // Shutdown timeout (or the stop grace, mid-backoff): what is left is spilled or counted below.
        }
        catch (Exception e)
        {
            // A bug, not a storage failure (those are retried). Keep the host (and the relay) running; every
            // row from now on is counted as dropped, which the metric makes visible.
            LogLoopFailed(_logger, e);
        }
        finally
        {
            replay?.Dispose();
            Close();
            Abandon(batch, flushes);
        }
    }

    private bool ReplayDue => !_closed && _spill.Value is { Bytes: > 0 };

    // One batch of the oldest segment per cycle, interleaved with fresh rows; when a flush waits, every segment
    // up to number upTo (rows spilled later are not the flush's). The segment is deleted once its last batch is
    // stored. Returns the segment still being read, if any, and whether every segment up to upTo is stored.
    private async Task<(AuditSpillSegment? Segment, bool Done)> ReplayAsync(AuditSpillSegment? segment, long upTo, CancellationToken cancellationToken)
    {
        var records = new List<AuditRecord>(CycleSize);
        while (ReplayDue && _spill.Value is { } spill)
        {
            segment ??= spill.OpenOldest();
            if (segment is null || segment.Sequence > upTo && upTo >= 0)
                return (segment, true);
            records.Clear();
            var unreadable = await segment.ReadAsync(records, CycleSize, cancellationToken).ConfigureAwait(false);
            if (unreadable > 0)
            {
                spill.Settle(unreadable);
                Drop("unreadable", unreadable);
                LogUnreadable(_logger, unreadable, segment.Path);
            }
            if (!await StoreAsync(records, fromSpill: true, cancellationToken).ConfigureAwait(false))
                return (segment, false); // stopping: the rows stay in their segment for the next process
            if (segment.AtEnd)
            {
                spill.Remove(segment);
                segment = null;
            }
            if (upTo < 0)
                return (segment, true);
        }
        // Stopping (or no spill): done only if nothing the flush may need is left on disk.
        return (segment, upTo < 0 || _spill.Value is not { Bytes: > 0 });
    }

    // Takes what is queued, then keeps taking for up to Linger unless the cycle is full, a flush waits, or the
    // queue is closed (shutdown): whichever comes first ends the cycle.
    private async Task CollectAsync(List<AuditRecord> batch, List<TaskCompletionSource> flushes, CancellationToken stoppingToken)
    {
        Take(batch, flushes);
        if (_options.Linger <= TimeSpan.Zero || !Lingering(batch, flushes))
            return;
        using var elapsed = new CancellationTokenSource(_options.Linger, _time);
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, elapsed.Token);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(linger.Token).ConfigureAwait(false))
            {
                Take(batch, flushes);
                if (!Lingering(batch, flushes))
                    return;
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The linger is over: write what was collected.
        }
    }

    private bool Lingering(List<AuditRecord> batch, List<TaskCompletionSource> flushes) =>
        batch.Count < CycleSize && flushes.Count == 0 && !_closed;

    private void Take(List<AuditRecord> batch, List<TaskCompletionSource> flushes)
    {
        while (batch.Count < CycleSize && _queue.Reader.TryRead(out var work))
        {
            if (work.Flush is { } flush)
                flushes.Add(flush);
            else
                batch.Add(work.Record!);
        }
    }

    // True once every row is stored (or rejected by the service). False when stopping made it give up: rows
    // from memory are then in the spill, rows from the spill still in their segment.
    private async Task<bool> StoreAsync(List<AuditRecord> batch, bool fromSpill, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
            return true;
        if (_spillRest)
            return GiveUp(batch, fromSpill);
        var (chunks, superseded) = _transactions.Prepare(batch);
        Settle(superseded, fromSpill);
        for (var failures = 0; ; failures++)
        {
            var before = chunks.Sum(c => c.Entities.Count);
            List<AuditChunk> failed;
            Exception? error;
            try
            {
                (failed, error) = await _transactions.WriteAsync(chunks, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopWrites.IsCancellationRequested)
            {
                // The grace is over with a write still hanging; whether it committed is unknown, and a replay upserts.
                return GiveUp(chunks, fromSpill);
            }
            // Rejected rows left their chunks during the write: they are settled too (and counted as dropped).
            Settle(before - failed.Sum(c => c.Entities.Count), fromSpill);
            if (failed.Count == 0)
            {
                if (failures > 0)
                    LogRecovered(_logger, failures);
                return true;
            }
            if (failures == 0)
                LogWriteFailed(_logger, error?.GetType().Name, (error as Azure.RequestFailedException)?.Status, PendingCount, error);
            chunks = failed;
            // Stopping with storage failing: spill now instead of backing off into the host's shutdown timeout.
            if (_closed && _spill.Value is not null)
                return GiveUp(chunks, fromSpill);
            await BackoffAsync(failures + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private bool GiveUp(List<AuditChunk> chunks, bool fromSpill) =>
        GiveUp([.. chunks.SelectMany(c => c.Records)], fromSpill);

    private bool GiveUp(List<AuditRecord> records, bool fromSpill)
    {
        _spillRest = true;
        if (!fromSpill)
        {
            Settle(records.Count, fromSpill: false);
            foreach (var record in records)
            {
                if (!TrySpill(record))
                    Drop("shutdown", 1);
            }
        }
        return false;
    }

    private bool TrySpill(AuditRecord record) =>
        _spill.Value?.TryAppend(record, useReserve: _options.WhenFull == AuditWhenFull.Reject) == true;

    private void Settle(long rows, bool fromSpill)
    {
        if (fromSpill)
            _spill.Value?.Settle(rows);
        else
            Interlocked.Add(ref _pending, -rows);
    }

    private void CancelStopWrites()
    {
        try
        {
            _stopWrites.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed after the loop ended: nothing left to cancel.
        }
    }

    private async Task BackoffAsync(int failures, CancellationToken cancellationToken)
    {
        var wake = Volatile.Read(ref _wake);
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(RetryDelay(failures), _time, delayCancellation.Token);
        await Task.WhenAny(delay, wake.Task).ConfigureAwait(false);
        delayCancellation.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
        if (wake.Task.IsCompleted)
            Interlocked.CompareExchange(ref _wake, NewSignal(), wake);
    }

    private TimeSpan RetryDelay(int failures)
    {
        var exponential = _options.InitialRetryDelay * Math.Pow(2, Math.Min(failures - 1, 30));
        var capped = exponential < _options.MaxRetryDelay ? exponential : _options.MaxRetryDelay;
        // Jitter downwards only, so the cap holds and instances that failed together do not retry together.
        return capped * (0.8 + 0.2 * Random.Shared.NextDouble());
    }

    private void Close()
    {
        _closed = true;
        _queue.Writer.TryComplete();
    }

    private void Abandon(List<AuditRecord> batch, List<TaskCompletionSource> flushes)
    {
        var stopped = new InvalidOperationException("The audit writer stopped before the rows were stored.");
        foreach (var flush in flushes)
            flush.TrySetException(stopped);
        while (_queue.Reader.TryRead(out var work))
        {
            work.Flush?.TrySetException(stopped);
            if (work.Record is { } record)
                batch.Add(record);
        }
        // Out of time or a bug: rows still in memory go to the spill when there is one. A row of the batch may
        // have been stored already; spilling it again costs only an upsert on replay.
        var pending = Interlocked.Exchange(ref _pending, 0);
        var notSpilled = batch.Count(record => !TrySpill(record));
        var lost = Math.Min(pending, notSpilled);
        if (lost > 0)
        {
            Interlocked.Add(ref _abandoned, lost);
            Drop("shutdown", lost);
            LogLost(_logger, lost);
        }
        batch.Clear();
    }

    private void OnRejected() => Drop("rejected", 1);

    private void Drop(string reason, long rows)
    {
        var total = Interlocked.Add(ref _dropped, rows);
        _droppedCounter.Add(rows, new KeyValuePair<string, object?>("reason", reason));
        if (reason is "full" or "stopped" && Interlocked.CompareExchange(ref _inDropBurst, 1, 0) == 0)
        {
            Interlocked.Exchange(ref _droppedBeforeBurst, total - rows);
            try
            {
                LogDropping(_logger, reason, _options.Capacity);
            }
            catch (Exception)
            {
                // Logger rethrows its providers' failures; Enqueue runs on the request path and must not throw.
            }
        }
    }

    // Hysteresis: a burst ends only when half the buffer is free again, so a writer that keeps up just barely
    // does not log an error per cycle.
    private void EndDropBurstIfRoom()
    {
        if (_closed || Volatile.Read(ref _inDropBurst) == 0 || Interlocked.Read(ref _pending) > _options.Capacity / 2)
            return;
        if (Interlocked.Exchange(ref _inDropBurst, 0) == 1)
            LogDropBurstEnded(_logger, DroppedCount - Interlocked.Read(ref _droppedBeforeBurst));
    }

    // Refusals end as soon as a row fits again: every refused call is one a client wanted served.
    private void EndRefusalsIfRoom()
    {
        if (Volatile.Read(ref _refusing) == 1
            && (Interlocked.Read(ref _pending) < _options.Capacity || _spill.Value?.HasRoom == true)
            && Interlocked.Exchange(ref _refusing, 0) == 1)
        {
            LogRefusalsEnded(_logger);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly record struct Work(AuditRecord? Record, TaskCompletionSource? Flush);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit buffer {Reason}: dropping audit rows (capacity {Capacity}, spill full or off). Further drops are counted in funckeyops.audit.dropped until it has room again")]
    private static partial void LogDropping(ILogger logger, string reason, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit buffer has room again; {Dropped} audit rows were dropped while it was full")]
    private static partial void LogDropBurstEnded(ILogger logger, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing audit rows failed ({ErrorType}, status {Status}); {Pending} rows are kept in memory and retried")]
    private static partial void LogWriteFailed(ILogger logger, string? errorType, int? status, long pending, Exception? exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit rows stored again after {Failures} failed attempts")]
    private static partial void LogRecovered(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit writer stopped with {Lost} rows not stored")]
    private static partial void LogLost(ILogger logger, long lost);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit buffer ({Capacity} rows) and spill ({SpillLimitBytes} bytes) full: the relay refuses calls with 503 (Audit:WhenFull=reject) until Table Storage takes rows again")]
    private static partial void LogRefusing(ILogger logger, int capacity, long spillLimitBytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit buffer has room again: the relay serves calls again")]
    private static partial void LogRefusalsEnded(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit writer stopped with {Rows} rows in the spill folder {Folder}; the next process on this machine replays them")]
    private static partial void LogLeftInSpill(ILogger logger, long rows, string folder);

    [LoggerMessage(Level = LogLevel.Error, Message = "Skipped {Lines} unreadable lines in audit spill segment {Segment} (a crash mid-append leaves one); counted as dropped")]
    private static partial void LogUnreadable(ILogger logger, int lines, string segment);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Audit writer loop failed; audit rows are dropped from now on")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
