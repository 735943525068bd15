using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;

namespace FuncKeyOps.Hosting;

/// <summary>
/// Defaults for the app run under an Azure Functions host, where a front end ends any response that sends nothing for
/// <see cref="FrontEndIdleLimit"/>. The relay's own waits are kept under it, so a silent provider is ended and audited
/// by the relay (504 / <c>upstream_stalled</c>) instead of cut by the front end and audited as a client close (499).
/// </summary>
public static class FunctionsHostDefaults
{
    /// <summary>Azure's front end: 230 s (the local Functions host's proxy: 240 s).</summary>
    public static readonly TimeSpan FrontEndIdleLimit = TimeSpan.FromSeconds(230);

    // (2 retries + 1) x 60 s header waits + 2 x 10 s Retry-After + backoff is about 201 s; 200 s idle mid-stream.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Relay:UpstreamTimeout"] = "00:01:00",
        ["Relay:StreamIdleTimeout"] = "00:03:20",
    };

    /// <summary>
    /// Adds the defaults beneath every source already added, so any setting an operator makes (app settings,
    /// local.settings.json, environment) still wins.
    /// </summary>
    public static IConfigurationBuilder AddFunctionsHostDefaults(this IConfigurationBuilder builder)
    {
        builder.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Settings });
        return builder;
    }
}
