using Azure.Data.Tables;
using FuncKeyOps.Caching;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// The <c>providerkeys</c> table. Writes go straight to storage; the relay reads a snapshot of the whole table
/// (a <see cref="RefreshingCache{TKey, TValue}"/>) used for at most <see cref="ProviderKeyOptions.CacheTtl"/> and read
/// again ahead of that in the background, so steady traffic never waits on Table Storage. While storage fails or
/// hangs the snapshot serves for at most <see cref="ProviderKeyOptions.MaxStale"/> more.
/// </summary>
public sealed class ProviderKeyRegistry
{
    private const int WriteAttempts = 5;
    // The snapshot is one cache entry: the relay needs the whole table to pick a provider's key.
    private const int WholeTable = 0;

    private readonly TableStore _tables;
    private readonly RefreshingCache<int, Snapshot> _snapshot;

    public ProviderKeyRegistry(TableStore tables, IOptions<ProviderKeyOptions> options, TimeProvider time, ILogger<ProviderKeyRegistry>? logger = null)
    {
        _tables = tables;
        _snapshot = new RefreshingCache<int, Snapshot>(
            nameof(ProviderKeyRegistry),
            options.Value.CachePolicy,
            async (_, cancellationToken) => Snapshot.Of(await ListAsync(cancellationToken).ConfigureAwait(false)),
            StorageReadFailure.Is,
            time,
            logger ?? (ILogger)NullLogger.Instance);
    }

    public async Task PutAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        await table.UpsertEntityAsync(ProviderKeyEntity.From(config), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        Invalidate();
    }

    /// <summary>
    /// Writes a registration (all fields as given) but keeps the row's routing weights, ETag-guarded: weights that
    /// an activation wrote between the caller's read and this write are not put back to what the caller saw.
    /// </summary>
    /// <returns>Whether the row was new, and the registration as stored.</returns>
    public async Task<(bool Created, ProviderKeyConfig Stored)> RegisterAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            var existing = await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, config.Name, cancellationToken).ConfigureAwait(false);
            var stored = config with { Weights = existing?.ToConfig().Weights ?? new Dictionary<string, int>() };
            var entity = ProviderKeyEntity.From(stored);
            entity.ETag = existing?.ETag ?? default;
            var written = existing is null
                ? await table.TryInsertAsync(entity, cancellationToken).ConfigureAwait(false)
                : await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false);
            if (written)
            {
                Invalidate();
                return (existing is null, stored);
            }
        }
        throw new InvalidOperationException($"The provider key '{config.Name}' kept changing while it was registered.");
    }

    /// <summary>Removes the registration (not its vault secret). False when there was none.</summary>
    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        try
        {
            await table.DeleteEntityAsync(TableKeys.ProviderPartition, name, Azure.ETag.All, cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            return false;
        }
        finally
        {
            Invalidate();
        }
        return true;
    }

    /// <summary>
    /// Replaces the routing weights, leaving every other field as the row holds it (ETag-guarded, so a registration
    /// written meanwhile is not overwritten). No write when the weights are already these.
    /// </summary>
    /// <returns>The weights the row held before, or null when the row does not exist.</returns>
    public async Task<IReadOnlyDictionary<string, int>?> SetWeightsAsync(string name, IReadOnlyDictionary<string, int> weights, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, name, cancellationToken).ConfigureAwait(false) is not { } entity)
                return null;
            var before = entity.ToConfig().Weights;
            if (SameWeights(before, weights))
                return before;
            entity.Weights = ProviderKeyEntity.WriteWeights(weights);
            if (await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false))
            {
                Invalidate();
                return before;
            }
        }
        throw new InvalidOperationException($"The provider key '{name}' kept changing while its weights were written.");
    }

    public static bool SameWeights(IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b) =>
        a.Count == b.Count && a.All(pair => b.TryGetValue(pair.Key, out var weight) && weight == pair.Value);

    /// <summary>
    /// The key a provider's unbound traffic goes to, among that provider's registrations: the platform key marked
    /// default, else (rows written before defaults existed) the first platform key by name. One rule for the relay and
    /// for the delete guard, so they cannot disagree. A tenant's own key is never the default.
    /// </summary>
    public static ProviderKeyConfig? DefaultOf(IEnumerable<ProviderKeyConfig> sameProvider) =>
        sameProvider.Where(c => c.Tenant is null)
            .OrderByDescending(c => c.IsDefault).ThenBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();

    // This instance's next relay call reads the table again, and no read that began before the write installs what it
    // read; other instances see the change within CacheTtl (within the staleness bound through an outage).
    private void Invalidate() => _snapshot.Invalidate(WholeTable);

    public async Task<ProviderKeyConfig?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, name, cancellationToken).ConfigureAwait(false);
        return entity?.ToConfig();
    }

    public async Task<IReadOnlyList<ProviderKeyConfig>> ListAsync(CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        var configs = new List<ProviderKeyConfig>();
        await foreach (var entity in table.QueryAsync<ProviderKeyEntity>(e => e.PartitionKey == TableKeys.ProviderPartition, cancellationToken: cancellationToken).ConfigureAwait(false))
            configs.Add(entity.ToConfig());
        return configs;
    }

    /// <summary>The provider's default key (<see cref="DefaultOf"/>), from the cached snapshot.</summary>
    public ValueTask<ProviderKeyConfig?> FindDefaultAsync(string provider, CancellationToken cancellationToken = default) =>
        FromSnapshotAsync(static (snapshot, provider) => snapshot.DefaultByProvider.GetValueOrDefault(provider), provider, cancellationToken);

    /// <summary>A registration by name, from the cached snapshot (the relay's read; admin calls use <see cref="GetAsync"/>).</summary>
    public ValueTask<ProviderKeyConfig?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        FromSnapshotAsync(static (snapshot, name) => snapshot.ByName.GetValueOrDefault(name), name, cancellationToken);

    private ValueTask<ProviderKeyConfig?> FromSnapshotAsync(Func<Snapshot, string, ProviderKeyConfig?> pick, string argument, CancellationToken cancellationToken)
    {
        var read = _snapshot.GetAsync(WholeTable, cancellationToken);
        return read.IsCompletedSuccessfully ? new(pick(read.Result!, argument)) : AwaitAsync(read, pick, argument);

        static async ValueTask<ProviderKeyConfig?> AwaitAsync(ValueTask<Snapshot?> read, Func<Snapshot, string, ProviderKeyConfig?> pick, string argument) =>
            pick((await read.ConfigureAwait(false))!, argument);
    }

    /// <summary>The snapshot read under way, so tests can wait on it instead of sleeping.</summary>
    internal Task? LoadUnderWay => _snapshot.LoadUnderWay(WholeTable);

    private sealed record Snapshot(IReadOnlyDictionary<string, ProviderKeyConfig> ByName, IReadOnlyDictionary<string, ProviderKeyConfig> DefaultByProvider)
    {
        public static Snapshot Of(IReadOnlyList<ProviderKeyConfig> all) => new(
            all.ToDictionary(c => c.Name, StringComparer.Ordinal),
            all.GroupBy(c => c.Provider, StringComparer.Ordinal)
                .Select(g => DefaultOf(g)).OfType<ProviderKeyConfig>()
                .ToDictionary(c => c.Provider, StringComparer.Ordinal));
    }
}
