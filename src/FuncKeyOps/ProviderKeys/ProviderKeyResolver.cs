using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Chooses a version and resolves its value through the secret cache (never the vault per request). Only a version
/// that carries routing weight, or is tagged active in the vault, ever serves: a staged (pending) version never does.
/// </summary>
public sealed class ProviderKeyResolver(ProviderKeyRegistry registry, SecretCache secrets)
{
    public async ValueTask<ProviderKeyResolution> ResolveAsync(string provider, CancellationToken cancellationToken = default)
    {
        var config = await registry.FindForProviderAsync(provider, cancellationToken).ConfigureAwait(false);
        if (config is null)
            return ProviderKeyResolution.NotRegistered;
        var version = PickVersion(config.Weights, Random.Shared.Next(100));
        SecretValue secret;
        try
        {
            secret = await secrets.GetAsync(config.SecretName, version, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException) when (version is null)
        {
            return ProviderKeyResolution.NoActiveVersion; // registered, nothing staged yet
        }
        // No weights: a row registered before activation existed, whose version was tagged active in the vault. The
        // latest version serves only while it is that active one; checking its tags keeps the hot path on the cache
        // (no version listing), and staging through the admin API pins the active version's weight first.
        if (version is null && !IsActive(secret.Info))
            return ProviderKeyResolution.NoActiveVersion;
        return new ProviderKeyResolution(new ResolvedProviderKey(config, secret.Version, secret.Value), null);
    }

    internal static bool IsActive(SecretVersionInfo info) => info.Enabled && info.State == SecretVersionState.Active;

    /// <summary>
    /// Walks the cumulative weights with a roll in [0, 100); null when no weights are set.
    /// The walk order does not matter for the split, so the dictionary is used as it is (no sort per request).
    /// </summary>
    internal static string? PickVersion(IReadOnlyDictionary<string, int> weights, int roll)
    {
        var total = 0;
        foreach (var weight in weights.Values)
            total += Math.Max(weight, 0);
        if (total == 0)
            return null;
        var point = roll * total / 100;
        string? last = null;
        foreach (var (version, weight) in weights)
        {
            if (weight <= 0)
                continue;
            if (point < weight)
                return version;
            point -= weight;
            last = version;
        }
        return last;
    }
}
