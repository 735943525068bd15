using System.Collections.Concurrent;
using Azure;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ClientKeys;

/// <summary>A key's row as the authenticator needs it: parsed once per load, not once per request.</summary>
internal sealed record CachedRelayKey(RelayKey Key, string Hash, string PepperVersion);

/// <summary>
/// This instance's memory of <c>clientkeys</c> rows, so the relay's hot path does not read Table Storage.
/// A row is trusted for <see cref="ClientKeysOptions.CacheTtl"/>: changes made through <see cref="RelayKeyService"/>
/// on this instance invalidate it at once, changes made elsewhere arrive within the TTL. Unknown ids are remembered
/// briefly and in bounded number. While storage fails, or has not answered a read for the whole refresh-ahead window,
/// a row is used up to <see cref="ClientKeysOptions.MaxStale"/> past its TTL.
/// </summary>
internal sealed partial class RelayKeyCache(TableStore tables, IOptions<ClientKeysOptions> options, TimeProvider time, ILogger<RelayKeyCache> logger)
{
    private readonly ClientKeysOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Entry> _known = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknownUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Load> _loading = new(StringComparer.Ordinal);
    private long _invalidations;

    /// <summary>The row, or null when no key has this id.</summary>
    public async ValueTask<CachedRelayKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var found = _known.TryGetValue(id, out var entry);
        if (found && now - entry!.LoadedAt < _options.CacheTtl)
        {
            // Refresh ahead in the last fifth of the TTL, so steady traffic never waits on storage for a row.
            if (now - entry.LoadedAt >= _options.CacheTtl - RefreshAheadWindow && !_loading.ContainsKey(id))
                LastRefreshAhead = RefreshAheadAsync(id);
            return entry.Row;
        }
        // A read under way for the whole refresh-ahead window: storage is slow enough to count as failing, and
        // waiting on it here would hold every request of this key at once. A younger read is waited for, so a
        // change made elsewhere is still seen once the TTL has passed.
        if (found && _loading.TryGetValue(id, out var pending) && now - pending.Started >= RefreshAheadWindow
            && now - entry!.LoadedAt < _options.CacheTtl + _options.MaxStale)
        {
            return entry.Row;
        }
        if (_unknownUntil.TryGetValue(id, out var until) && now < until)
            return null;
        try
        {
            return await LoadAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            if (found && now - entry!.LoadedAt < _options.CacheTtl + _options.MaxStale)
            {
                LogServingStale(logger, id, now - entry.LoadedAt);
                return entry.Row;
            }
            throw new RelayKeyUnavailableException($"Table Storage could not be read for relay key '{id}'.", e);
        }
    }

    /// <summary>Forgets the id so the next request reads the row. Loads already under way are not stored.</summary>
    public void Invalidate(string id)
    {
        Interlocked.Increment(ref _invalidations);
        _known.TryRemove(id, out _);
        _unknownUntil.TryRemove(id, out _);
        _loading.TryRemove(id, out _);
    }

    internal int UnknownCount => _unknownUntil.Count;

    /// <summary>The most recent refresh-ahead, so tests can wait on it instead of sleeping.</summary>
    internal Task LastRefreshAhead { get; private set; } = Task.CompletedTask;

    private async Task RefreshAheadAsync(string id)
    {
        try
        {
            await LoadAsync(id, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            // The cached row stays until its TTL; the request that finds it expired tries again.
        }
    }

    // One storage read per id at a time, however many requests present that id.
    private Task<CachedRelayKey?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var load = _loading.GetOrAdd(id, static (key, cache) => cache.NewLoad(key), this);
        return load.Read.Value.WaitAsync(cancellationToken);
    }

    private Load NewLoad(string id)
    {
        Load? load = null;
        load = new Load(new Lazy<Task<CachedRelayKey?>>(() => ReadAsync(id, load!)), time.GetUtcNow());
        return load;
    }

    private TimeSpan RefreshAheadWindow => _options.CacheTtl / 5;

    private async Task<CachedRelayKey?> ReadAsync(string id, Load load)
    {
        var generation = Interlocked.Read(ref _invalidations);
        try
        {
            var table = await tables.GetTableAsync(TableNames.ClientKeys, CancellationToken.None).ConfigureAwait(false);
            var entity = await table.TryGetAsync<RelayKeyEntity>(TableKeys.ClientPartition, id, CancellationToken.None).ConfigureAwait(false);
            var row = entity is null ? null : new CachedRelayKey(entity.ToRelayKey(), entity.Hash, entity.PepperVersion);
            // A status change on this instance while the read was in flight may have made the row stale.
            if (Interlocked.Read(ref _invalidations) == generation)
                Store(id, row);
            return row;
        }
        finally
        {
            // Only this load: an invalidation may already have put a newer one in its place.
            _loading.TryRemove(KeyValuePair.Create(id, load));
        }
    }

    private void Store(string id, CachedRelayKey? row)
    {
        var now = time.GetUtcNow();
        if (row is not null)
        {
            _known[id] = new Entry(row, now);
            _unknownUntil.TryRemove(id, out _);
            return;
        }
        _known.TryRemove(id, out _);
        if (_unknownUntil.Count >= _options.NegativeCacheCapacity)
            EvictUnknown(now);
        _unknownUntil[id] = now + _options.NegativeCacheTtl;
    }

    // Expired entries first; if a flood of distinct ids still fills the cache, start over rather than grow.
    private void EvictUnknown(DateTimeOffset now)
    {
        foreach (var (id, until) in _unknownUntil)
        {
            if (until <= now)
                _unknownUntil.TryRemove(new KeyValuePair<string, DateTimeOffset>(id, until));
        }
        if (_unknownUntil.Count >= _options.NegativeCacheCapacity)
            _unknownUntil.Clear();
    }

    // The SDK reports exhausted retries as an AggregateException of the attempts' failures.
    private static bool IsStorageFailure(Exception e) => e switch
    {
        RequestFailedException or HttpRequestException => true,
        AggregateException a => a.InnerExceptions.All(IsStorageFailure),
        _ => false,
    };

    private sealed record Entry(CachedRelayKey Row, DateTimeOffset LoadedAt);

    // A class, not a record: loads are told apart by reference when one is removed.
    private sealed class Load(Lazy<Task<CachedRelayKey?>> read, DateTimeOffset started)
    {
        public Lazy<Task<CachedRelayKey?>> Read { get; } = read;
        public DateTimeOffset Started { get; } = started;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Table Storage unavailable; using the cached row of relay key {RelayKeyId} aged {Age}")]
    private static partial void LogServingStale(ILogger logger, string relayKeyId, TimeSpan age);
}
