using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Chooses a version and resolves its value through the secret cache (never the vault per request). Only a version
/// that carries routing weight, or (for a row without any weights) is tagged active in the vault, ever serves: a staged
/// (pending) version never does, nor any version of a row whose weights are all zero.
/// </summary>
public sealed class ProviderKeyResolver(SecretCache secrets)
{
    /// <summary>A version of <paramref name="config"/> drawn by its routing weights, with its value.</summary>
    public async ValueTask<ProviderKeyResolution> ResolveAsync(ProviderKeyConfig config, CancellationToken cancellationToken = default)
    {
        var version = PickVersion(config.Weights, Random.Shared.Next(100));
        // Weights listed, none positive: every version was taken out of service (an emergency rotation's containment,
        // whose compromised version stays the latest and tagged active until the provider has revoked it). Falling
        // back to the latest version here would serve the very key that was contained.
        if (version is null && config.Weights.Count > 0)
            return ProviderKeyResolution.NoActiveVersion;
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

    /// <summary>
    /// The version a call retries on when <paramref name="failed"/> was refused or unreachable: the other version that
    /// carries routing weight (during a canary, two do), or null when there is none or it may not serve. Only the
    /// snapshot <paramref name="failed"/> came from and the secret cache are read (no version listing per request; a
    /// version that carries weight is usually cached already, since it serves too, else it is loaded once as the first
    /// pick would); a version the cache knows is tagged revoked or disabled is skipped, and one the vault will not give is too.
    /// </summary>
    public async ValueTask<ResolvedProviderKey?> ResolveOtherAsync(ResolvedProviderKey failed, CancellationToken cancellationToken = default)
    {
        if (OtherWeighted(failed.Config.Weights, failed.Version) is not { } version)
            return null;
        SecretValue secret;
        try
        {
            secret = await secrets.GetAsync(failed.Config.SecretName, version, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretStoreException)
        {
            return null; // gone, disabled (the vault answers 403) or the vault down: the first attempt's answer stands
        }
        if (!secret.Info.Enabled || secret.Info.State == SecretVersionState.Revoked)
            return null;
        return new ResolvedProviderKey(failed.Config, secret.Version, secret.Value);
    }

    /// <summary>The heaviest version other than <paramref name="version"/> with a positive weight; null when none.</summary>
    internal static string? OtherWeighted(IReadOnlyDictionary<string, int> weights, string version)
    {
        string? other = null;
        var heaviest = 0;
        foreach (var (candidate, weight) in weights)
        {
            if (weight > heaviest && !string.Equals(candidate, version, StringComparison.Ordinal))
                (other, heaviest) = (candidate, weight);
        }
        return other;
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
