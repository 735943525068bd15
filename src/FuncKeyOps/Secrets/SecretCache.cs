using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Secrets;

/// <summary>
/// In-memory cache in front of the vault so the hot path never waits on Key Vault: values are refreshed ahead
/// of expiry in the background, and served stale for a bounded time while the vault fails. Never written to disk.
/// </summary>
public sealed partial class SecretCache(ISecretStore store, IOptions<SecretCacheOptions> options, TimeProvider time, ILogger<SecretCache> logger)
{
    private readonly SecretCacheOptions _options = options.Value;
    private readonly ConcurrentDictionary<(string Name, string? Version), Entry> _entries = new();

    public async Task<SecretValue> GetAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        var key = (name, version);
        if (!_entries.TryGetValue(key, out var entry))
            return await FetchAsync(key, cancellationToken).ConfigureAwait(false);

        var age = time.GetUtcNow() - entry.FetchedAt;
        if (age < _options.RefreshAhead)
            return entry.Value;
        if (age < _options.TimeToLive)
        {
            LastBackgroundRefresh = RefreshInBackground(key);
            return entry.Value;
        }
        try
        {
            return await FetchAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretStoreException e) when (e.IsTransient && age < _options.TimeToLive + _options.MaxStale)
        {
            LogServingStale(logger, name, age, e.Status);
            return entry.Value;
        }
    }

    /// <summary>The most recent refresh-ahead, so tests can wait on it instead of sleeping.</summary>
    internal Task LastBackgroundRefresh { get; private set; } = Task.CompletedTask;

    /// <summary>Drops cached values of a secret, e.g. after a rotation step wrote a new version.</summary>
    public void Invalidate(string name)
    {
        foreach (var key in _entries.Keys)
        {
            if (key.Name == name)
                _entries.TryRemove(key, out _);
        }
    }

    private readonly ConcurrentDictionary<(string Name, string? Version), Lazy<Task<SecretValue>>> _inFlight = new();

    // One vault call per key at a time, however many requests are waiting on it.
    private async Task<SecretValue> FetchAsync((string Name, string? Version) key, CancellationToken cancellationToken)
    {
        var fetch = _inFlight.GetOrAdd(key, k => new Lazy<Task<SecretValue>>(() => LoadAsync(k)));
        return await fetch.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<SecretValue> LoadAsync((string Name, string? Version) key)
    {
        try
        {
            var value = await store.GetAsync(key.Name, key.Version, CancellationToken.None).ConfigureAwait(false);
            _entries[key] = new Entry(value, time.GetUtcNow());
            return value;
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private async Task RefreshInBackground((string Name, string? Version) key)
    {
        try
        {
            await FetchAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogRefreshFailed(logger, key.Name, (e as SecretStoreException)?.Status);
        }
    }

    private sealed record Entry(SecretValue Value, DateTimeOffset FetchedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key Vault unavailable (status {Status}); serving cached secret {SecretName} aged {Age}")]
    private static partial void LogServingStale(ILogger logger, string secretName, TimeSpan age, int? status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Background refresh of secret {SecretName} failed (status {Status}); the cached value stays until it expires")]
    private static partial void LogRefreshFailed(ILogger logger, string secretName, int? status);
}
