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

    /// <summary>How far past its time to live the snapshot last served stale was; zero once Table Storage answers again.</summary>
    internal TimeSpan ServedStaleBeyondTimeToLive => _snapshot.ServedStaleBeyondTimeToLive;

    public async Task PutAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        await table.UpsertEntityAsync(ProviderKeyEntity.From(config), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        Invalidate();
    }

    /// <summary>
    /// Writes a registration (all fields as given) but keeps the row's routing weights and default flag, and keeps
    /// exactly one platform default per provider (<see cref="ProviderKeyDefaults"/>): the first platform key of a
    /// provider becomes its default, <paramref name="makeDefault"/> moves the default to this key. The row and every
    /// flag it moves are one entity-group transaction guarded by the ETags read (the provider's default row too, even
    /// unchanged, so a concurrent delete of it is noticed), retried on conflict: a crash or a race never leaves a
    /// provider with two defaults or none.
    /// </summary>
    /// <returns>Whether the row was new, and the registration as stored.</returns>
    public async Task<(bool Created, ProviderKeyConfig Stored)> RegisterAsync(ProviderKeyConfig config, bool makeDefault = false, CancellationToken cancellationToken = default)
    {
        if (makeDefault && config.Tenant is not null)
            throw new ArgumentException("A tenant's own key is never a default.", nameof(makeDefault));
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            var rows = new Dictionary<string, ProviderKeyEntity>(StringComparer.Ordinal);
            await foreach (var row in table.QueryAsync<ProviderKeyEntity>(e => e.PartitionKey == TableKeys.ProviderPartition, cancellationToken: cancellationToken).ConfigureAwait(false))
                rows[row.RowKey] = row;
            var existing = rows.GetValueOrDefault(config.Name);
            var stored = config with
            {
                Weights = existing?.ToConfig().Weights ?? new Dictionary<string, int>(),
                IsDefault = existing?.IsDefault ?? false,
            };
            var after = rows.Values.Where(r => r.RowKey != config.Name).Select(r => r.ToConfig()).Append(stored).ToList();
            var (changes, defaults) = ProviderKeyDefaults.Settle(after, [stored.Provider, .. existing is null ? [] : new[] { existing.Provider }],
                makeDefault ? stored.Name : null);
            stored = stored with { IsDefault = changes.GetValueOrDefault(stored.Name, stored.IsDefault) };

            var entity = ProviderKeyEntity.From(stored);
            var actions = new List<TableTransactionAction>
            {
                existing is null
                    ? new(TableTransactionActionType.Add, entity)
                    : new(TableTransactionActionType.UpdateReplace, entity, existing.ETag),
            };
            foreach (var name in changes.Keys.Union(defaults).Where(n => n != stored.Name).Distinct(StringComparer.Ordinal))
            {
                // A merge of the flag alone (or of nothing: the ETag check is the point) on the row as read.
                var flag = new TableEntity(TableKeys.ProviderPartition, name);
                if (changes.TryGetValue(name, out var isDefault))
                    flag[nameof(ProviderKeyEntity.IsDefault)] = isDefault;
                actions.Add(new(TableTransactionActionType.UpdateMerge, flag, rows[name].ETag));
            }
            try
            {
                await table.SubmitTransactionAsync(actions, cancellationToken).ConfigureAwait(false);
            }
            catch (TableTransactionFailedException e) when (e.Status is 404 or 409 or 412)
            {
                continue; // a row changed, appeared or went since the read: work it out again on the rows as they are
            }
            Invalidate();
            return (existing is null, stored);
        }
        throw new InvalidOperationException($"The provider key '{config.Name}' kept changing while it was registered.");
    }

    /// <summary>
    /// Removes the registration if its provider and default flag are still as in <paramref name="seen"/>, guarded by
    /// the row's ETag, so a default moved onto it after the caller's check is never deleted with it. True when removed,
    /// false when there was none, null when it changed (the caller decides again).
    /// </summary>
    public async Task<bool?> DeleteIfUnchangedAsync(ProviderKeyConfig seen, CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        if (await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, seen.Name, cancellationToken).ConfigureAwait(false) is not { } row)
            return false;
        if (row.IsDefault != seen.IsDefault || row.Provider != seen.Provider)
            return null;
        try
        {
            await table.DeleteEntityAsync(TableKeys.ProviderPartition, seen.Name, row.ETag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Azure.RequestFailedException e) when (e.Status is 404 or 412)
        {
            return e.Status == 404 ? false : null;
        }
        finally
        {
            Invalidate();
        }
    }

    /// <summary>
    /// Replaces the routing weights, leaving every other field as the row holds it (ETag-guarded, so a registration
    /// written meanwhile is not overwritten). No write when the weights are already these.
    /// </summary>
    /// <returns>The weights the row held before, or null when the row does not exist.</returns>
    public Task<IReadOnlyDictionary<string, int>?> SetWeightsAsync(string name, IReadOnlyDictionary<string, int> weights, CancellationToken cancellationToken = default) =>
        SetWeightsAsync(name, weights, fence: null, cancellationToken);

    /// <summary>As <see cref="SetWeightsAsync(string, IReadOnlyDictionary{string, int}, CancellationToken)"/>, refused
    /// (<see cref="FencedOutException"/>) once the row bears a newer token than <paramref name="fence"/>.</summary>
    public async Task<IReadOnlyDictionary<string, int>?> SetWeightsAsync(string name, IReadOnlyDictionary<string, int> weights, WriteFence? fence,
        CancellationToken cancellationToken = default)
    {
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, name, cancellationToken).ConfigureAwait(false) is not { } entity)
                return null;
            ThrowIfFencedOut(entity, fence);
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

    /// <summary>
    /// Stamps the row with <paramref name="fence"/> (a write, so its ETag changes: any write begun on an older read is
    /// refused), unless it bears it already. Throws <see cref="FencedOutException"/> when it bears a newer token of the
    /// same holder; does nothing when the row is gone.
    /// </summary>
    public async Task FenceAsync(string name, WriteFence fence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fence);
        var table = await _tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        for (var attempt = 0; attempt < WriteAttempts; attempt++)
        {
            if (await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, name, cancellationToken).ConfigureAwait(false) is not { } entity)
                return;
            ThrowIfFencedOut(entity, fence);
            if (WriteFence.Parse(entity.RotationFence) == fence)
                return;
            entity.RotationFence = fence.ToColumn();
            if (await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false))
                return; // the config is unchanged: nothing to invalidate
        }
        throw new InvalidOperationException($"The provider key '{name}' kept changing while it was fenced.");
    }

    private static void ThrowIfFencedOut(ProviderKeyEntity entity, WriteFence? fence)
    {
        if (fence is not null && fence.IsSupersededBy(WriteFence.Parse(entity.RotationFence)))
            throw new FencedOutException($"The provider key '{entity.RowKey}' is fenced by a newer lease of {fence.Holder} than {fence.Token}.");
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
