using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Providers;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Quotas;

/// <summary>
/// The usage ledger: per relay key RPM limit and daily/monthly token budgets, and per provider key RPM/TPM ceilings
/// (through <see cref="ProviderKeyLimiter"/>), each a <see cref="QuotaSubject"/> with rows of its own.
/// Decisions are made in memory on the request path; <see cref="FlushAsync"/> (run by <see cref="UsageFlusher"/>)
/// merges this instance's counts into the shared <c>usage</c> rows and reads the global totals back, which then lower
/// what this instance still admits.
/// </summary>
/// <remarks>
/// <para>
/// Because instances only see each other's usage at flushes, limits can be overshot, by a bounded amount.
/// With N instances and flush interval F, let A be the most requests one instance admits for a key within 2F (its
/// flush plus the reader's flush, plus their durations). In one UTC minute a key is admitted at most
/// <c>min(N × RPM, RPM + (N − 1) × A)</c> requests: each instance's own limiter stops at RPM, and the last instance
/// to admit had seen all but the others' last ~2F of requests. Example: RPM 600 evenly over 3 instances, F = 2 s:
/// A ≈ 14, so at most ≈ 628.
/// </para>
/// <para>
/// Token budgets are checked when a call is admitted; its tokens are known only when it ends. A key's total can pass
/// its budget by the tokens of calls in flight when it was crossed, plus (N − 1) × the tokens one instance's calls
/// use within 2F. The instance that records the crossing refuses at once (global total + its own pending).
/// </para>
/// </remarks>
public sealed partial class QuotaGate : IQuotaGate
{
    // Bounds the storage calls one flush has in flight, whatever the number of keys.
    private const int MaxParallelMerges = 4;
    private const string TableNotFound = "TableNotFound";

    private readonly TableStore _tables;
    private readonly QuotaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<QuotaGate> _logger;
    private readonly BudgetWarningWriter _warnings;
    private readonly ConcurrentDictionary<string, KeyQuotaState> _keys = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly string _instanceId = Guid.NewGuid().ToString("N")[..12];
    private long _mergeSequence;
    private long _mergeConflicts;
    private bool _failing;
    private TaskCompletionSource _nextFlush = NewSignal();

    public QuotaGate(TableStore tables, IOptions<QuotaOptions> options, TimeProvider time, ILogger<QuotaGate> logger)
    {
        _tables = tables;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _warnings = new BudgetWarningWriter(tables, logger);
    }

    public ValueTask<QuotaDecision> TryAcquireAsync(RelayKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ValueTask.FromResult(TryAcquire(QuotaSubject.Of(key)));
    }

    public void RecordUsage(RelayKey key, TokenUsage usage)
    {
        ArgumentNullException.ThrowIfNull(key);
        Record(QuotaSubject.Of(key), usage);
    }

    /// <summary>Takes one request permit of <paramref name="subject"/> and checks its other limits; memory only.</summary>
    internal QuotaDecision TryAcquire(in QuotaSubject subject)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            var state = _keys.GetOrAdd(subject.Id, static id => new KeyQuotaState(id));
            if (state.TryAcquire(subject, now) is { } decision)
                return decision;
            _keys.TryRemove(new KeyValuePair<string, KeyQuotaState>(subject.Id, state));
        }
    }

    /// <summary>Counts a finished call's tokens for <paramref name="subject"/>; memory only.</summary>
    internal void Record(in QuotaSubject subject, TokenUsage usage)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            var state = _keys.GetOrAdd(subject.Id, static id => new KeyQuotaState(id));
            if (state.TryRecord(subject, usage, now))
                return;
            _keys.TryRemove(new KeyValuePair<string, KeyQuotaState>(subject.Id, state));
        }
    }

    /// <summary>
    /// Merges pending usage into the <c>usage</c> table, reads the shared totals back and records due 80 % warnings.
    /// Storage failures do not throw: the usage stays pending for the next flush.
    /// </summary>
    /// <returns>True when all usage pending at the start is stored.</returns>
    public async Task<bool> FlushAsync(CancellationToken cancellationToken = default)
    {
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushLock.Release();
            Interlocked.Exchange(ref _nextFlush, NewSignal()).TrySetResult();
        }
    }

    /// <summary>Completes when the next flush ends, so tests can wait for the flusher without sleeping.</summary>
    internal Task NextFlushCompleted => Volatile.Read(ref _nextFlush).Task;

    internal int TrackedKeyCount => _keys.Count;

    /// <summary>ETag races lost (and retried) so far: lets tests show they exercised the race.</summary>
    internal long MergeConflicts => Interlocked.Read(ref _mergeConflicts);

    private async Task<bool> FlushCoreAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var complete = true;
        try
        {
            var work = _keys.Values.SelectMany(s => s.CountersToFlush(now).Select(c => (State: s, Counter: c))).ToList();
            if (work.Count > 0)
            {
                var usage = await _tables.GetTableAsync(TableNames.Usage, cancellationToken).ConfigureAwait(false);
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelMerges, CancellationToken = cancellationToken };
                // The first storage failure cancels the rest: when storage is down, one failure says it all.
                await Parallel.ForEachAsync(work, parallel, async (item, ct) =>
                {
                    if (!await FlushCounterAsync(usage, item.State, item.Counter, ct).ConfigureAwait(false))
                        complete = false;
                }).ConfigureAwait(false);
                await RecordWarningsAsync(work, now, cancellationToken).ConfigureAwait(false);
            }
            if (_failing)
                LogFlushRecovered(_logger);
            _failing = false;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            complete = false;
            if (!_failing)
                LogFlushFailed(_logger, e);
            _failing = true;
        }

        foreach (var state in _keys.Values)
        {
            if (state.TryRetire(now, _options.IdleKeyTimeout))
                _keys.TryRemove(new KeyValuePair<string, KeyQuotaState>(state.KeyId, state));
        }
        return complete;
    }

    private async Task<bool> FlushCounterAsync(TableClient usage, KeyQuotaState state, UsageCounter counter, CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                return await FlushCounterOnceAsync(usage, state, counter, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.ErrorCode == TableNotFound)
            {
                // The table went away under the cached client (deleted, or storage lost its data): make it again.
                await usage.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
                return await FlushCounterOnceAsync(usage, state, counter, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException e) when (e.Status is >= 400 and < 500 and not 408 and not 429 && e.ErrorCode != TableNotFound)
        {
            // This row is refused (not storage being down): keep its usage pending, let the other rows through.
            LogRowRefused(_logger, state.KeyId, counter.RowKey, e.Status, e.ErrorCode);
            return false;
        }
    }

    private async Task<bool> FlushCounterOnceAsync(TableClient usage, KeyQuotaState state, UsageCounter counter, CancellationToken cancellationToken)
    {
        var attempt = state.BeginMerge(counter, NewMergeToken, out var resumed);
        if (attempt is null)
        {
            state.Refresh(counter, await UsageRowMerger.ReadAsync(usage, state.KeyId, counter.RowKey, counter.Window.Stamp, cancellationToken).ConfigureAwait(false));
            return true;
        }
        if (!await MergeAsync(usage, state, counter, attempt, cancellationToken).ConfigureAwait(false))
            return false;
        // An attempt left unconfirmed by a failed flush carries only the usage of back then: store the rest now.
        if (resumed && state.BeginMerge(counter, NewMergeToken, out _) is { } rest)
            return await MergeAsync(usage, state, counter, rest, cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task<bool> MergeAsync(TableClient usage, KeyQuotaState state, UsageCounter counter, MergeAttempt attempt, CancellationToken cancellationToken)
    {
        var totals = await UsageRowMerger.MergeAsync(usage, state.KeyId, counter.RowKey, counter.Window.Stamp, attempt, OnConflict, cancellationToken).ConfigureAwait(false);
        if (totals is null)
            return false;
        state.ConfirmMerge(counter, attempt, totals.Value);
        return true;
    }

    private async Task RecordWarningsAsync(List<(KeyQuotaState State, UsageCounter Counter)> work, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var (state, counter) in work)
        {
            if (state.WarningDue(counter, BudgetWarningWriter.Ratio) is not { } due)
                continue;
            await _warnings.RecordAsync(state.KeyId, counter.Window, due.Budget, due.Observed, now, cancellationToken).ConfigureAwait(false);
            state.MarkWarningRecorded(counter);
        }
    }

    private string NewMergeToken() => _instanceId + "." + Interlocked.Increment(ref _mergeSequence).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void OnConflict() => Interlocked.Increment(ref _mergeConflicts);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Quota usage flush failed; usage stays pending in memory and is merged by a later flush")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Quota usage flush succeeded again; pending usage is stored")]
    private static partial void LogFlushRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Usage row {Window} of {QuotaSubject} was refused by storage (status {Status}, {ErrorCode}); its usage stays pending")]
    private static partial void LogRowRefused(ILogger logger, string quotaSubject, string window, int status, string? errorCode);
}
