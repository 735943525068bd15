using FuncKeyOps.Caching;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.RelayKeys;

/// <summary>A key's row as the authenticator needs it: parsed once per load, not once per request.</summary>
internal sealed record CachedRelayKey(RelayKey Key, string Hash, string PepperVersion);

/// <summary>
/// This instance's memory of <c>clientkeys</c> rows, so the relay's hot path does not read Table Storage
/// (a <see cref="RefreshingCache{TKey, TValue}"/>). A row is trusted for <see cref="RelayKeysOptions.CacheTtl"/> and
/// read again ahead of it, in its last fifth: changes made through <see cref="RelayKeyService"/> on this instance
/// invalidate it at once, changes made elsewhere arrive within the TTL. Unknown ids are remembered briefly and in
/// bounded number. While storage fails, or has not answered a read for the whole refresh-ahead window, a row is used
/// up to <see cref="RelayKeysOptions.MaxStale"/> past its TTL.
/// </summary>
internal sealed class RelayKeyCache
{
    private readonly RefreshingCache<string, CachedRelayKey> _rows;

    public RelayKeyCache(TableStore tables, IOptions<RelayKeysOptions> options, TimeProvider time, ILogger<RelayKeyCache> logger)
    {
        _rows = new RefreshingCache<string, CachedRelayKey>(
            nameof(RelayKeyCache),
            options.Value.CachePolicy,
            async (id, cancellationToken) =>
            {
                var table = await tables.GetTableAsync(TableNames.RelayKeys, cancellationToken).ConfigureAwait(false);
                var entity = await table.TryGetAsync<RelayKeyEntity>(TableKeys.RelayKeyPartition, id, cancellationToken).ConfigureAwait(false);
                return entity is null ? null : new CachedRelayKey(entity.ToRelayKey(), entity.Hash, entity.PepperVersion);
            },
            StorageReadFailure.Is,
            time,
            logger,
            StringComparer.Ordinal);
    }

    /// <summary>The row, or null when no key has this id.</summary>
    /// <exception cref="RelayKeyUnavailableException">Storage failed and no row within the stale bound is cached.</exception>
    public ValueTask<CachedRelayKey?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var read = _rows.GetAsync(id, cancellationToken);
        return read.IsCompletedSuccessfully ? read : AwaitAsync(id, read);

        static async ValueTask<CachedRelayKey?> AwaitAsync(string id, ValueTask<CachedRelayKey?> read)
        {
            try
            {
                return await read.ConfigureAwait(false);
            }
            catch (Exception e) when (StorageReadFailure.Is(e))
            {
                throw new RelayKeyUnavailableException($"Table Storage could not be read for relay key '{id}'.", e);
            }
        }
    }

    /// <summary>Forgets the id so the next request reads the row. Loads already under way are not stored.</summary>
    public void Invalidate(string id) => _rows.Invalidate(id);

    internal int UnknownCount => _rows.AbsentCount;

    /// <summary>The read under way for an id, so tests can wait on it instead of sleeping.</summary>
    internal Task? LoadUnderWay(string id) => _rows.LoadUnderWay(id);
}
