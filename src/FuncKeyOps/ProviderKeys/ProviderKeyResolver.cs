using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>The provider key value chosen for one request, with what the audit row records about it.</summary>
public sealed record ResolvedProviderKey(ProviderKeyConfig Config, string Version, string Value)
{
    public override string ToString() => $"{Config.Name}/{Version} (value hidden)";
}

/// <summary>Chooses a version by routing weight and resolves its value through the secret cache (never the vault per request).</summary>
public sealed class ProviderKeyResolver(ProviderKeyRegistry registry, SecretCache secrets)
{
    /// <returns>Null when no provider key is registered for the provider.</returns>
    public async ValueTask<ResolvedProviderKey?> ResolveAsync(string provider, CancellationToken cancellationToken = default)
    {
        var config = await registry.FindForProviderAsync(provider, cancellationToken).ConfigureAwait(false);
        if (config is null)
            return null;
        var version = PickVersion(config.Weights, Random.Shared.Next(100));
        var secret = await secrets.GetAsync(config.SecretName, version, cancellationToken).ConfigureAwait(false);
        return new ResolvedProviderKey(config, secret.Version, secret.Value);
    }

    /// <summary>
    /// Walks the cumulative weights with a roll in [0, 100); null (latest version) when no weights are set.
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
