using FuncKeyOps.Caching;

namespace FuncKeyOps.RelayKeys;

public sealed class RelayKeysOptions
{
    public const string Section = "RelayKeys";

    /// <summary>Key Vault secret holding the HMAC pepper. Created (32 random bytes, base64) on first use when absent.</summary>
    public string PepperSecretName { get; set; } = "relay-key-pepper";

    /// <summary>
    /// How long an instance trusts its in-memory copy of a key's row. A status change made on one instance is seen
    /// at once there and by every other instance within this time: it is the propagation bound of a suspension.
    /// </summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an unknown key id is remembered as unknown, so a repeated garbage key does not reach storage.</summary>
    public TimeSpan NegativeCacheTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most unknown ids remembered at once; bounds the memory a flood of random ids can take.</summary>
    public int NegativeCacheCapacity { get; set; } = 10_000;

    /// <summary>
    /// How long past <see cref="CacheTtl"/> a cached row may still be used while Table Storage fails, so the relay
    /// keeps serving through a storage outage. Bounded because a suspension cannot reach this instance meanwhile.
    /// </summary>
    public TimeSpan MaxStale { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Read again in the last fifth of <see cref="CacheTtl"/>; unknown ids remembered as the negative cache says.</summary>
    internal RefreshPolicy CachePolicy => RefreshPolicy.FromTimeToLive(CacheTtl, MaxStale) with
    {
        AbsentTimeToLive = NegativeCacheTtl,
        AbsentCapacity = NegativeCacheCapacity,
    };

    /// <summary>The oldest relay-key row an instance may use (a suspension's worst case through an outage).</summary>
    public TimeSpan StalenessBound => CachePolicy.StalenessBound;
}
