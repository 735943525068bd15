using FuncKeyOps.Caching;

namespace FuncKeyOps.ProviderKeys;

public sealed class ProviderKeyOptions
{
    public const string Section = "ProviderKeys";

    /// <summary>How long the relay uses its in-memory copy of the registry before reading it again.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long past <see cref="CacheTtl"/> the relay keeps using its copy while Table Storage fails or hangs, so it
    /// keeps relaying through a storage outage. Bounded because a weight change cannot reach this instance meanwhile.
    /// </summary>
    public TimeSpan MaxStale { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Bound on an activation's validation call, retries included: the relay's upstream timeout (minutes, for long
    /// generations) is far too long for an admin caller waiting on a model list. Kept under Admin:StorageTimeout
    /// (10 s), which bounds the whole admin call: a slow provider must answer 502, not read as a storage outage.
    /// </summary>
    public TimeSpan ValidationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Hosts a platform provider key's endpoints may name besides its provider's own (<c>baseUrl</c>, and the
    /// connector's <c>adminBaseUrl</c>, <c>armEndpoint</c>, <c>apiKeysEndpoint</c>): <c>llm.corp.example</c>, or
    /// <c>*.corp.example</c> for the hosts below it, or <c>*</c> for any. Empty (the default): the providers' hosts only
    /// (and loopback in Development). See <see cref="ProviderKeyEndpoints"/>.
    /// </summary>
    public List<string> AllowedEndpointHosts { get; set; } = [];

    /// <summary>Read again in the last fifth of <see cref="CacheTtl"/>, as relay-key rows are.</summary>
    internal RefreshPolicy CachePolicy => RefreshPolicy.FromTimeToLive(CacheTtl, MaxStale);

    /// <summary>The oldest registry copy (routing weights) an instance may use: <see cref="CacheTtl"/> + <see cref="MaxStale"/>.</summary>
    public TimeSpan StalenessBound => CachePolicy.StalenessBound;
}
