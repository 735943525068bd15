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
/// (at most <see cref="AuditOptions.Capacity"/>) and are retried with capped exponential backoff; on shutdown
/// what is buffered is written within the host's shutdown timeout.
/// </summary>
public sealed partial class AuditWriter : BackgroundService, IAuditSink
{
    // Rows taken from the queue per write cycle: enough to fill transactions, small next to Capacity.
    private const int CycleSize = 1000;

    // Flush markers get slots of their own so that a queue full of rows never refuses one.
    private const int FlushHeadroom = 1024;

    private readonly AuditTransactions _transactions;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<AuditWriter> _logger;
    private readonly Channel<Work> _queue;
    private readonly Counter<long> _droppedCounter;
    private long _pending;
    private long _dropped;
    private long _droppedBeforeBurst;
    private long _abandoned;
    private int _inDropBurst;
    private volatile bool _closed;
    private TaskCompletionSource _wake = NewSignal();

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
        var meter = meters.Create("FuncKeyOps.Audit");
        _droppedCounter = meter.CreateCounter<long>("funckeyops.audit.dropped", "{row}", "Audit rows that will never be stored.");
        var stored = meter.CreateCounter<long>("funckeyops.audit.stored", "{row}", "Audit rows written to Table Storage.");
        meter.CreateObservableUpDownCounter("funckeyops.audit.pending", () => PendingCount, "{row}", "Audit rows accepted and not yet stored.");
        _transactions = new AuditTransactions(tables, _options.Shards, redactor, logger, stored, OnRejected);
    }

    /// <summary>Rows accepted and not yet stored (queued, in flight, or waiting for Table Storage to come back).</summary>
    public long PendingCount => Interlocked.Read(ref _pending);

    /// <summary>Rows that will never be stored: refused while the buffer was full or after shutdown, or rejected by the service.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    /// <summary>Never blocks and never throws: when the buffer is full the row is dropped and counted.</summary>
    public void Enqueue(AuditRecord record)
    {
        if (record is null)
            return;
        // The oldest rows are kept: they are already accepted and the sweeps read the earliest windows first.
        if (Interlocked.Increment(ref _pending) <= _options.Capacity && _queue.Writer.TryWrite(new Work(record, null)))
            return;
        Interlocked.Decrement(ref _pending);
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

    /// <summary>Stops accepting rows and writes what is buffered; gives up when <paramref name="cancellationToken"/> (the host's shutdown timeout) fires.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Close();
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
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<AuditRecord>(CycleSize);
        var flushes = new List<TaskCompletionSource>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                await CollectAsync(batch, flushes, stoppingToken).ConfigureAwait(false);
                await StoreAsync(batch, stoppingToken).ConfigureAwait(false);
                batch.Clear();
                EndDropBurstIfRoom();
                foreach (var flush in flushes)
                    flush.TrySetResult();
                flushes.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown timeout: what is left is counted below.
        }
        catch (Exception e)
        {
            // A bug, not a storage failure (those are retried). Keep the host (and the relay) running; every
            // row from now on is counted as dropped, which the metric makes visible.
            LogLoopFailed(_logger, e);
        }
        finally
        {
            Close();
            Abandon(batch, flushes);
        }
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

    private async Task StoreAsync(List<AuditRecord> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
            return;
        var (chunks, superseded) = _transactions.Prepare(batch);
        Interlocked.Add(ref _pending, -superseded);
        for (var failures = 0; ; failures++)
        {
            var (failed, error) = await _transactions.WriteAsync(chunks, cancellationToken).ConfigureAwait(false);
            var written = chunks.Sum(c => c.Entities.Count) - failed.Sum(c => c.Entities.Count);
            Interlocked.Add(ref _pending, -written);
            if (failed.Count == 0)
            {
                if (failures > 0)
                    LogRecovered(_logger, failures);
                return;
            }
            if (failures == 0)
                LogWriteFailed(_logger, error?.GetType().Name, (error as Azure.RequestFailedException)?.Status, PendingCount, error);
            chunks = failed;
            await BackoffAsync(failures + 1, cancellationToken).ConfigureAwait(false);
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
            work.Flush?.TrySetException(stopped);
        var lost = Interlocked.Exchange(ref _pending, 0);
        if (lost > 0)
        {
            Interlocked.Add(ref _abandoned, lost);
            Drop("shutdown", lost);
            LogLost(_logger, lost);
        }
        batch.Clear();
    }

    private void OnRejected() => Drop("rejected", 1, decrementPending: true);

    private void Drop(string reason, long rows, bool decrementPending = false)
    {
        if (decrementPending)
            Interlocked.Decrement(ref _pending);
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
        if (_closed || Volatile.Read(ref _inDropBurst) == 0 || PendingCount > _options.Capacity / 2)
            return;
        if (Interlocked.Exchange(ref _inDropBurst, 0) == 1)
            LogDropBurstEnded(_logger, DroppedCount - Interlocked.Read(ref _droppedBeforeBurst));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly record struct Work(AuditRecord? Record, TaskCompletionSource? Flush);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit buffer {Reason}: dropping audit rows (capacity {Capacity}). Further drops are counted in funckeyops.audit.dropped until it has room again")]
    private static partial void LogDropping(ILogger logger, string reason, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit buffer has room again; {Dropped} audit rows were dropped while it was full")]
    private static partial void LogDropBurstEnded(ILogger logger, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing audit rows failed ({ErrorType}, status {Status}); {Pending} rows are kept in memory and retried")]
    private static partial void LogWriteFailed(ILogger logger, string? errorType, int? status, long pending, Exception? exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit rows stored again after {Failures} failed attempts")]
    private static partial void LogRecovered(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit writer stopped with {Lost} rows not stored")]
    private static partial void LogLost(ILogger logger, long lost);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Audit writer loop failed; audit rows are dropped from now on")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
