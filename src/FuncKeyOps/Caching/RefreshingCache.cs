using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Caching;

/// <summary>
/// The one refreshing cache behind the secret cache, the relay-key rows and the provider-key registry: values are
/// read again in the background before they expire (one load per key at a time, however many callers), served stale
/// for at most <see cref="RefreshPolicy.MaxStale"/> while the store fails or hangs, and an invalidation is never
/// undone by a load that started before it. Time comes from <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Written here rather than taken from FusionCache 2.x, which was tried against each of these points: it refreshes
/// ahead, loads once per key and bounds fail-safe serving, but a value loaded by a factory that started before
/// <c>Remove</c>/<c>Expire</c> is stored after it (so a suspension or a weight change could be undone), and it reads
/// the system clock, not a <see cref="TimeProvider"/>, so none of those bounds can be tested on a fake clock.
/// </remarks>
internal sealed partial class RefreshingCache<TKey, TValue>
    where TKey : notnull
    where TValue : class
{
    private readonly Func<TKey, CancellationToken, Task<TValue?>> _load;
    private readonly Func<Exception, bool> _isOutage;
    private readonly RefreshPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly ConcurrentDictionary<TKey, Entry> _entries;
    private readonly ConcurrentDictionary<TKey, DateTimeOffset> _absentUntil;
    private readonly ConcurrentDictionary<TKey, Load> _loads;
    // Taken to store a loaded value, to invalidate, and by a read that missed (to join or start a load); never by a read
    // served from memory. So a store and an invalidation cannot interleave, nor a store and a missed read's new load.
    private readonly Lock _writes = new();
    // Written only when a value is served stale or a fresh one stored, so reads pay nothing for the staleness gauge.
    private long _servedStaleTicks;

    /// <param name="name">Names the cache in log messages.</param>
    /// <param name="load">Reads one key from the store; null when the store has no such key.</param>
    /// <param name="isOutage">Whether a load's exception means the store failed (serve stale) rather than a final answer.</param>
    public RefreshingCache(
        string name,
        RefreshPolicy policy,
        Func<TKey, CancellationToken, Task<TValue?>> load,
        Func<Exception, bool> isOutage,
        TimeProvider time,
        ILogger logger,
        IEqualityComparer<TKey>? comparer = null)
    {
        policy.Validate(name);
        _name = name;
        _policy = policy;
        _load = load;
        _isOutage = isOutage;
        _time = time;
        _logger = logger;
        _entries = new(comparer);
        _absentUntil = new(comparer);
        _loads = new(comparer);
    }

    /// <summary>The value, or null when the store has none. Completes synchronously (no allocation) while fresh.</summary>
    public ValueTask<TValue?> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry))
        {
            var age = now - entry.LoadedAt;
            if (age < _policy.RefreshAhead)
                return new(entry.Value);
            if (age < _policy.TimeToLive)
            {
                StartLoad(key, now, background: true);
                return new(entry.Value);
            }
            if (_loads.TryGetValue(key, out var running) && now - running.Started >= _policy.HungAfter && age < _policy.StalenessBound)
            {
                ServingStale(key, age);
                return new(entry.Value);
            }
        }
        else if (_absentUntil.TryGetValue(key, out var until) && now < until)
        {
            return new((TValue?)null);
        }
        return WaitForLoadAsync(key, now, cancellationToken);
    }

    /// <summary>Forgets the key: the next read loads it, and no load already under way stores what it read.</summary>
    public void Invalidate(TKey key)
    {
        lock (_writes)
        {
            _loads.TryRemove(key, out _);
            _entries.TryRemove(key, out _);
            _absentUntil.TryRemove(key, out _);
        }
    }

    /// <summary><see cref="Invalidate(TKey)"/> for every key that matches.</summary>
    public void Invalidate(Func<TKey, bool> matches)
    {
        lock (_writes)
        {
            foreach (var key in _loads.Keys.Where(matches))
                _loads.TryRemove(key, out _);
            foreach (var key in _entries.Keys.Where(matches))
                _entries.TryRemove(key, out _);
            foreach (var key in _absentUntil.Keys.Where(matches))
                _absentUntil.TryRemove(key, out _);
        }
    }

    internal int AbsentCount => _absentUntil.Count;

    /// <summary>
    /// How far past its time to live the value last served stale was (zero once a load has stored a fresh value):
    /// the cache-staleness gauge, which says how long the store has been failing the relay.
    /// </summary>
    public TimeSpan ServedStaleBeyondTimeToLive => TimeSpan.FromTicks(Volatile.Read(ref _servedStaleTicks));

    private void ServingStale(TKey key, TimeSpan age)
    {
        Volatile.Write(ref _servedStaleTicks, Max(age - _policy.TimeToLive, TimeSpan.Zero).Ticks);
        LogServingStale(_logger, _name, key, age);
    }

    /// <summary>The load under way for the key, if any, so tests can wait on it instead of sleeping.</summary>
    internal Task? LoadUnderWay(TKey key) => _loads.TryGetValue(key, out var load) ? load.Task : null;

    private async ValueTask<TValue?> WaitForLoadAsync(TKey key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!TryJoinOrStartLoad(key, now, out var load, out var stored))
            return stored;
        try
        {
            // With a value to fall back on, wait only until the load counts as hung.
            if (Stale(key) is not null)
            {
                using var hung = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                await Task.WhenAny(load.Task, Task.Delay(Max(load.Started + _policy.HungAfter - now, TimeSpan.Zero), _time, hung.Token)).ConfigureAwait(false);
                await hung.CancelAsync().ConfigureAwait(false);
                if (!load.Task.IsCompleted && Stale(key) is { } stale)
                {
                    ServingStale(key, _time.GetUtcNow() - stale.LoadedAt);
                    return stale.Value;
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
            // The load's answer: it came in time, there is nothing to fall back on, or the fallback ran past its bound
            // while the load hung (then the read waits for the store as one without a fallback does, rather than fail).
            return await load.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (_isOutage(e) && Stale(key) is { } stale)
        {
            // One line per call while the store is down, so without the exception and its stack.
            ServingStale(key, _time.GetUtcNow() - stale.LoadedAt);
            return stale.Value;
        }
    }

    // What may still be served: read again at the time of use, so a value invalidated meanwhile is not.
    private Entry? Stale(TKey key) =>
        _entries.TryGetValue(key, out var entry) && _time.GetUtcNow() - entry.LoadedAt < _policy.StalenessBound ? entry : null;

    /// <summary>
    /// A missed read's load: the one under way, or a new one; false, with the value, when a load stored it since the
    /// read missed. That load has left <c>_loads</c> by then, so without looking again the read would start a second
    /// store call for a value just loaded (seen: 20 concurrent misses making 2 vault calls). The look and the new load
    /// are under the lock <see cref="Store"/> takes, so a store cannot fall between them; only a miss pays for it.
    /// </summary>
    private bool TryJoinOrStartLoad(TKey key, DateTimeOffset now, out Load load, out TValue? stored)
    {
        lock (_writes)
        {
            stored = null;
            load = null!;
            if (_entries.TryGetValue(key, out var entry))
            {
                if (now - entry.LoadedAt < _policy.RefreshAhead)
                {
                    stored = entry.Value;
                    return false;
                }
            }
            else if (_absentUntil.TryGetValue(key, out var until) && now < until)
            {
                return false;
            }
            load = _loads.GetOrAdd(key, static (k, state) => new Load(k, state.now, state.cache), (now, cache: this));
        }
        load.Start(background: false);
        return true;
    }

    private Load StartLoad(TKey key, DateTimeOffset now, bool background)
    {
        var load = _loads.GetOrAdd(key, static (k, state) => new Load(k, state.now, state.cache), (now, cache: this));
        load.Start(background);
        return load;
    }

    private async Task RunAsync(Load load, bool background)
    {
        try
        {
            var value = await _load(load.Key, CancellationToken.None).ConfigureAwait(false);
            Store(load, value);
            load.Succeeded(value);
        }
        catch (Exception e)
        {
            _loads.TryRemove(KeyValuePair.Create(load.Key, load));
            if (background)
                LogRefreshFailed(_logger, _name, load.Key, e);
            load.Failed(e);
        }
    }

    private void Store(Load load, TValue? value)
    {
        lock (_writes)
        {
            // No longer the key's load: an invalidation came after it started, so what it read may be older.
            if (!_loads.TryRemove(KeyValuePair.Create(load.Key, load)))
                return;
            if (value is not null)
            {
                _entries[load.Key] = new Entry(value, load.Started);
                Volatile.Write(ref _servedStaleTicks, 0);
                _absentUntil.TryRemove(load.Key, out _);
                return;
            }
            _entries.TryRemove(load.Key, out _);
            if (_policy.AbsentTimeToLive <= TimeSpan.Zero)
                return;
            if (_absentUntil.Count >= _policy.AbsentCapacity)
                EvictAbsent(_time.GetUtcNow());
            _absentUntil[load.Key] = load.Started + _policy.AbsentTimeToLive;
        }
    }

    // Expired answers first; if a flood of distinct keys still fills the room, start over rather than grow.
    private void EvictAbsent(DateTimeOffset now)
    {
        foreach (var (key, until) in _absentUntil)
        {
            if (until <= now)
                _absentUntil.TryRemove(KeyValuePair.Create(key, until));
        }
        if (_absentUntil.Count >= _policy.AbsentCapacity)
            _absentUntil.Clear();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed record Entry(TValue Value, DateTimeOffset LoadedAt);

    // A class, not a record: loads are told apart by reference when one is removed.
    private sealed class Load(TKey key, DateTimeOffset started, RefreshingCache<TKey, TValue> cache)
    {
        private readonly TaskCompletionSource<TValue?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _started;

        public TKey Key { get; } = key;
        public DateTimeOffset Started { get; } = started;
        public Task<TValue?> Task => _done.Task;

        // Only the load that won its place in the dictionary runs, and only once.
        public void Start(bool background)
        {
            if (Interlocked.Exchange(ref _started, 1) == 0)
                _ = cache.RunAsync(this, background);
        }

        public void Succeeded(TValue? value) => _done.SetResult(value);

        public void Failed(Exception e)
        {
            _done.SetException(e);
            _ = _done.Task.Exception; // observed: a background load's failure is logged, not left to the finalizer
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Cache}: the store failed or did not answer; serving the cached value of {Key} aged {Age}")]
    private static partial void LogServingStale(ILogger logger, string cache, TKey key, TimeSpan age);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Cache}: background refresh of {Key} failed; the cached value stays until its time to live")]
    private static partial void LogRefreshFailed(ILogger logger, string cache, TKey key, Exception exception);
}
