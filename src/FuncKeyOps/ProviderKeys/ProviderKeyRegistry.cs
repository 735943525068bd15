using Azure.Data.Tables;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ProviderKeys;

public sealed class ProviderKeyOptions
{
    public const string Section = "ProviderKeys";

    /// <summary>How long the relay uses its in-memory copy of the registry before reading it again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// The <c>providerkeys</c> table. Writes go straight to storage; the relay reads a snapshot refreshed at most
/// every <see cref="ProviderKeyOptions.CacheTtl"/>, so a request never waits on Table Storage once warm.
/// </summary>
public sealed class ProviderKeyRegistry(TableStore tables, IOptions<ProviderKeyOptions> options, TimeProvider time)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private Snapshot? _snapshot;

    public async Task PutAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.ProviderKeys, cancellationToken).ConfigureAwait(false);
        await table.UpsertEntityAsync(ProviderKeyEntity.From(config), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
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
    /// The provider key the relay uses for a provider: the first by name. Only the very first call waits for storage;
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
            try
            {
                var all = await ListAsync(cancellationToken).ConfigureAwait(false);
                var byProvider = all.GroupBy(c => c.Provider, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.OrderBy(c => c.Name, StringComparer.Ordinal).First(), StringComparer.Ordinal);
                return _snapshot = new Snapshot(byProvider, time.GetUtcNow());
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
