using FuncKeyOps.Caching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Secrets;

/// <summary>
/// In-memory cache in front of the vault so the hot path never waits on Key Vault (a <see cref="RefreshingCache{TKey, TValue}"/>
/// with <see cref="SecretCacheOptions"/>): refreshed ahead of expiry in the background, served stale for a bounded
/// time while the vault fails. A deleted secret is never served stale. Never written to disk.
/// </summary>
public sealed class SecretCache
{
    private readonly RefreshingCache<(string Name, string? Version), SecretValue> _values;

    public SecretCache(ISecretStore store, IOptions<SecretCacheOptions> options, TimeProvider time, ILogger<SecretCache> logger)
    {
        _values = new RefreshingCache<(string Name, string? Version), SecretValue>(
            nameof(SecretCache),
            options.Value.Policy,
            async (key, cancellationToken) => await store.GetAsync(key.Name, key.Version, cancellationToken).ConfigureAwait(false),
            static e => e is SecretStoreException { IsTransient: true },
            time,
            logger);
    }

    /// <exception cref="SecretNotFoundException">No such secret or version.</exception>
    /// <exception cref="SecretStoreException">The vault failed and no value within <see cref="SecretCacheOptions.MaxStale"/> was cached.</exception>
    public ValueTask<SecretValue> GetAsync(string name, string? version = null, CancellationToken cancellationToken = default)
    {
        var read = _values.GetAsync((name, version), cancellationToken);
        return read.IsCompletedSuccessfully ? new(read.Result!) : AwaitAsync(read);

        static async ValueTask<SecretValue> AwaitAsync(ValueTask<SecretValue?> read) => (await read.ConfigureAwait(false))!;
    }

    /// <summary>Drops cached values of every version of a secret, e.g. after a rotation step wrote a new version.</summary>
    public void Invalidate(string name) => _values.Invalidate(key => key.Name == name);

    /// <summary>How far past its time to live the secret value last served stale was; zero once the vault answers again.</summary>
    internal TimeSpan ServedStaleBeyondTimeToLive => _values.ServedStaleBeyondTimeToLive;

    /// <summary>The load under way for a secret version, so tests can wait on it instead of sleeping.</summary>
    internal Task? LoadUnderWay(string name, string? version = null) => _values.LoadUnderWay((name, version));
}
