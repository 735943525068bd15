using FuncKeyOps.Caching;

namespace FuncKeyOps.Secrets;

public sealed class SecretCacheOptions
{
    public const string Section = "Secrets:Cache";

    /// <summary>After this age a read still returns the cached value but starts a background refresh.</summary>
    public TimeSpan RefreshAhead { get; set; } = TimeSpan.FromMinutes(4);

    /// <summary>After this age a read waits for a fresh value from the vault.</summary>
    public TimeSpan TimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long past <see cref="TimeToLive"/> a value may still be served while the vault fails.
    /// Bounded so that a revoked key does not live on forever behind an outage.
    /// </summary>
    public TimeSpan MaxStale { get; set; } = TimeSpan.FromMinutes(30);

    internal RefreshPolicy Policy => new(RefreshAhead, TimeToLive, MaxStale);

    /// <summary>The oldest secret value an instance may use: <see cref="TimeToLive"/> + <see cref="MaxStale"/>.</summary>
    public TimeSpan StalenessBound => Policy.StalenessBound;
}
