using Azure.Data.Tables;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ProviderKeys;

public sealed class ProviderKeyOptions
{
    public const string Section = "ProviderKeys";

    /// <summary>How long the relay uses its in-memory copy of the registry before reading it again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Bound on an activation's validation call, retries included: the relay's upstream timeout (minutes, for long
    /// generations) is far too long for an admin caller waiting on a model list. Kept under Admin:StorageTimeout
    /// (10 s), which bounds the whole admin call: a slow provider must answer 502, not read as a storage outage.
    /// </summary>
    public TimeSpan ValidationTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The <c>providerkeys</c> table. Writes go straight to storage; the relay reads a snapshot refreshed at most
/// every <see cref="ProviderKeyOptions.CacheTtl"/>, so a request never waits on Table Storage once warm.
/// </summary>
public sealed class ProviderKeyRegistry(TableStore tables, IOptions<ProviderKeyOptions> options, TimeProvider time)
{
    private const int WriteAttempts = 5;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private Snapshot? _snapshot;
    // Bumped by every write: a refresh that read the table before a write must not install what it read.
    private long _generation;

    public async Task PutAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
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
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
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
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
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
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
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
    /// The key the relay sends a provider's traffic to, among that provider's registrations: the first by name.
    /// One rule for the relay and for the delete guard, so they cannot disagree.
    /// </summary>
    public static ProviderKeyConfig? DefaultOf(IEnumerable<ProviderKeyConfig> sameProvider) =>
        sameProvider.OrderBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault();

    // This instance's next relay call reads the table again; other instances see the change within CacheTtl.
    private void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _snapshot = null;
    }

    public async Task<ProviderKeyConfig?> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<ProviderKeyEntity>(TableKeys.ProviderPartition, name, cancellationToken).ConfigureAwait(false);
        return entity?.ToConfig();
    }

    public async Task<IReadOnlyList<ProviderKeyConfig>> ListAsync(CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        var configs = new List<ProviderKeyConfig>();
        await foreach (var entity in table.QueryAsync<ProviderKeyEntity>(e => e.PartitionKey == TableKeys.ProviderPartition, cancellationToken: cancellationToken).ConfigureAwait(false))
            configs.Add(entity.ToConfig());
        return configs;
    }

    /// <summary>
    /// The provider key the relay uses for a provider (<see cref="DefaultOf"/>). Only the very first call waits for storage;
    /// after that an expired snapshot is served while one background read replaces it.
    /// </summary>
    public async ValueTask<ProviderKeyConfig?> FindForProviderAsync(string provider, CancellationToken cancellationToken = default)
    {
        var snapshot = _snapshot;
        if (snapshot is null)
            snapshot = await RefreshAsync(null, cancellationToken).ConfigureAwait(false);
        else if (time.GetUtcNow() - snapshot.LoadedAt >= options.Value.CacheTtl && _refresh.CurrentCount > 0)
            LastBackgroundRefresh = RefreshAsync(snapshot, CancellationToken.None);
        return snapshot.ByProvider.GetValueOrDefault(provider);
    }

    /// <summary>The most recent background refresh, so tests can wait on it instead of sleeping.</summary>
    internal Task LastBackgroundRefresh { get; private set; } = Task.CompletedTask;

    private async Task<Snapshot> RefreshAsync(Snapshot? stale, CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_snapshot is { } current && current != stale)
                return current;
            var generation = Interlocked.Read(ref _generation);
            try
            {
                var all = await ListAsync(cancellationToken).ConfigureAwait(false);
                var byProvider = all.GroupBy(c => c.Provider, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => DefaultOf(g)!, StringComparer.Ordinal);
                var snapshot = new Snapshot(byProvider, time.GetUtcNow());
                // Written to meanwhile: use what was read for this call, but let the next one read again.
                if (Interlocked.Read(ref _generation) == generation)
                    _snapshot = snapshot;
                return snapshot;
            }
            catch (Exception) when (stale is not null)
            {
                // Storage is down: keep relaying with the last known registry, and try again after another TTL.
                return _snapshot = stale with { LoadedAt = time.GetUtcNow() };
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    private sealed record Snapshot(IReadOnlyDictionary<string, ProviderKeyConfig> ByProvider, DateTimeOffset LoadedAt);
}
