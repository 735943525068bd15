using FuncKeyOps.Relay;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// The longest an instance may keep sending a provider key version after routing weights moved off it, or after a
/// newer version became the one tagged active: what a rotation must wait before it disables or deletes the old
/// version (docs/caching.md). Computed from this instance's settings; every instance must share them.
/// </summary>
public static class ProviderKeyStaleness
{
    /// <summary>
    /// The older of the two cached facts a call acts on (the registry's weights, the secret cache's "latest"
    /// version), each at most its TTL + MaxStale old, plus how long one call goes on sending the key it resolved.
    /// </summary>
    public static TimeSpan Bound(ProviderKeyOptions providerKeys, SecretCacheOptions secrets, RelayOptions relay) =>
        Max(providerKeys.StalenessBound, secrets.StalenessBound) + LongestSend(relay);

    /// <summary>
    /// A call resolves its key once and sends it again on each retry: the last attempt starts at most every earlier
    /// attempt's timeout plus a retry delay after the first (a delay is the jittered backoff or a Retry-After, each bounded).
    /// </summary>
    internal static TimeSpan LongestSend(RelayOptions relay)
    {
        var retries = Math.Max(relay.MaxRetries, 0);
        var longestDelay = Max(relay.MaxRetryAfter, relay.RetryBaseDelay * Math.Pow(2, retries + 1));
        return (relay.UpstreamTimeout + longestDelay) * retries;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
