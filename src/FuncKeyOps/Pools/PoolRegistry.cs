using Azure.Data.Tables;
using FuncKeyOps.Caching;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Pools;

/// <summary>
/// The <c>providerpools</c> table. Writes go straight to storage; the relay reads a snapshot of the whole table
/// (<see cref="FindAsync"/>) on the same terms as the provider-key registry's (<see cref="ProviderKeyOptions.CacheTtl"/>,
/// <see cref="ProviderKeyOptions.MaxStale"/>): a pool's members are routing, as a key's version weights are, so one
/// bound says how late any routing change can reach an instance.
/// </summary>
/// <remarks>
/// A table of its own rather than rows beside the provider keys: every reader of <c>providerkeys</c> (rotation,
/// activation, removal, the default rule) takes each row for a key, and a pool is not one. The two still share one
/// namespace (a relay key binds to either by name), which the admin calls keep by refusing a name the other holds.
/// </remarks>
public sealed class PoolRegistry : IPoolDirectory
{
    private const int WriteAttempts = 5;
    private const int WholeTable = 0;

    private readonly TableStore _tables;
    private readonly RefreshingCache<int, IReadOnlyDictionary<string, ProviderKeyPool>> _snapshot;

    public PoolRegistry(TableStore tables, IOptions<ProviderKeyOptions> options, TimeProvider time, ILogger<PoolRegistry>? logger = null)
    {
        _tables = tables;
        _snapshot = new RefreshingCache<int, IReadOnlyDictionary<string, ProviderKeyPool>>(
            nameof(PoolRegistry),
            options.Value.CachePolicy,
            async (_, cancellationToken) => (await ListAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Name, StringComparer.Ordinal),
            StorageReadFailure.Is,
            time,
            logger ?? (ILogger)NullLogger.Instance);
    }

    /// <summary>
    /// Writes the pool whole (one row, so a crash leaves the old pool or the new one). No write when the row already
    /// holds this pool, so a repeated PUT changes nothing.
    /// </summary>
    public async Task<(bool Created, bool Changed)> PutAsync(ProviderKeyPool pool, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            var existing = await table.TryGetAsync<PoolEntity>(TableKeys.PoolPartition, pool.Name, cancellationToken).ConfigureAwait(false);
            var entity = PoolEntity.From(pool);
            if (existing is not null && existing.SameAs(entity))
                return (false, false);
            entity.ETag = existing?.ETag ?? default;
            // ETag-guarded, so "created" is told truly when two PUTs of a new pool race.
            var written = existing is null
                ? await table.TryInsertAsync(entity, cancellationToken).ConfigureAwait(false)
                : await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false);
            if (written)
            {
                Invalidate();
                return (existing is null, true);
            }
        }
        throw new InvalidOperationException($"The pool '{pool.Name}' kept changing while it was written.");
    }

    /// <summary>Removes the pool. False when there was none.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The SDK answers a missing row with its 404 response rather than an exception.
            using var response = await table.DeleteEntityAsync(TableKeys.PoolPartition, name, Azure.ETag.All, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
        finally
        {
            Invalidate();
        }
    }

    /// <summary>A pool by name from storage (admin calls; the relay uses <see cref="FindAsync"/>).</summary>
    public async Task<ProviderKeyPool?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<PoolEntity>(TableKeys.PoolPartition, name, cancellationToken).ConfigureAwait(false);
        return entity?.ToPool();
    }

    public async Task<IReadOnlyList<ProviderKeyPool>> ListAsync(CancellationToken cancellationToken = default)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var pools = new List<ProviderKeyPool>();
        await foreach (var entity in table.QueryAsync<PoolEntity>(e => e.PartitionKey == TableKeys.PoolPartition, cancellationToken: cancellationToken).ConfigureAwait(false))
            pools.Add(entity.ToPool());
        return pools;
    }

    /// <summary>The names of the pools the provider key is a member of, from storage, by name.</summary>
    public async Task<IReadOnlyList<string>> PoolsWithMemberAsync(string keyName, CancellationToken cancellationToken = default) =>
        (await ListAsync(cancellationToken).ConfigureAwait(false))
            .Where(p => p.Members.Any(m => m.KeyName == keyName))
            .Select(p => p.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>A pool by name from the cached snapshot: the relay's read.</summary>
    public ValueTask<ProviderKeyPool?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        var read = _snapshot.GetAsync(WholeTable, cancellationToken);
        return read.IsCompletedSuccessfully ? new(read.Result!.GetValueOrDefault(name)) : AwaitAsync(read, name);

        static async ValueTask<ProviderKeyPool?> AwaitAsync(ValueTask<IReadOnlyDictionary<string, ProviderKeyPool>?> read, string name) =>
            (await read.ConfigureAwait(false))!.GetValueOrDefault(name);
    }

    /// <summary>The snapshot read under way, so tests can wait on it instead of sleeping.</summary>
    internal Task? LoadUnderWay => _snapshot.LoadUnderWay(WholeTable);

    // As the provider-key registry: this instance's next call reads again and no read begun before the write installs
    // what it read; other instances see the change within ProviderKeys:CacheTtl (the staleness bound through an outage).
    private void Invalidate() => _snapshot.Invalidate(WholeTable);

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => _tables.GetTableAsync(TableNames.Pools, cancellationToken);
}
