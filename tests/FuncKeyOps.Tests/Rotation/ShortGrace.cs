namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// Settings that make the revoke grace (<see cref="FuncKeyOps.ProviderKeys.ProviderKeyStaleness.Bound"/>) a few seconds,
/// for hosts whose rotations wait it out (real Durable timers, the Server driver's polls): a <c>holds</c> override
/// never shortens the grace, and the defaults' bound is about 44 min. Every part of the bound is shrunk rather than the
/// retries dropped, so a relay call still gets its retries: the registry and secret caches read again after 0.5 s and
/// used at most 5 s more while the store fails (under a loaded machine Azurite does fail reads for a moment: a shorter
/// MaxStale turns that into 503s for the relay's callers), and each of the 2 retries comes after at most a 2 s attempt
/// and a 0.25 s Retry-After: 5.5 s + 2 x 2.25 s = 10 s.
/// </summary>
internal static class ShortGrace
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static Dictionary<string, string?> Settings() => new()
    {
        ["ProviderKeys:CacheTtl"] = "00:00:00.5",
        ["ProviderKeys:MaxStale"] = "00:00:05",
        ["Secrets:Cache:RefreshAhead"] = "00:00:00.4",
        ["Secrets:Cache:TimeToLive"] = "00:00:00.5",
        ["Secrets:Cache:MaxStale"] = "00:00:05",
        ["Relay:UpstreamTimeout"] = "00:00:02",
        ["Relay:MaxRetryAfter"] = "00:00:00.25",
    };

    /// <summary><see cref="Settings"/> under the test's own <paramref name="settings"/>, which win.</summary>
    public static Dictionary<string, string?> With(IDictionary<string, string?>? settings)
    {
        var merged = Settings();
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            merged[key] = value;
        return merged;
    }
}
