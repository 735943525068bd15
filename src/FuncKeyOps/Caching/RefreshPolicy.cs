namespace FuncKeyOps.Caching;

/// <summary>
/// When a <see cref="RefreshingCache{TKey, TValue}"/> reads a value again and how long it may serve an old one.
/// Ages count from when the read that produced the value started, so a slow read does not make its value look newer.
/// </summary>
/// <param name="RefreshAhead">From this age a read returns the cached value and starts one background load.</param>
/// <param name="TimeToLive">From this age a read waits for a new value (unless the store fails or hangs).</param>
/// <param name="MaxStale">How long past <paramref name="TimeToLive"/> a value is still served while the store fails.</param>
internal sealed record RefreshPolicy(TimeSpan RefreshAhead, TimeSpan TimeToLive, TimeSpan MaxStale)
{
    /// <summary>How long a store's "no such key" is remembered (zero: not remembered).</summary>
    public TimeSpan AbsentTimeToLive { get; init; }

    /// <summary>Most "no such key" answers remembered at once, so a flood of random keys cannot grow memory.</summary>
    public int AbsentCapacity { get; init; } = 10_000;

    /// <summary>
    /// The oldest value this cache ever returns: a store change reaches this instance within it, even through an outage.
    /// </summary>
    public TimeSpan StalenessBound => TimeToLive + MaxStale;

    /// <summary>
    /// The refresh-ahead window. A load that has not answered for this long counts as failing: the stale value is
    /// served rather than holding every request on a store that hangs.
    /// </summary>
    public TimeSpan HungAfter => TimeToLive - RefreshAhead;

    /// <summary>Refresh ahead in the last fifth of the TTL, the caches' shared default.</summary>
    public static RefreshPolicy FromTimeToLive(TimeSpan timeToLive, TimeSpan maxStale) => new(timeToLive * 4 / 5, timeToLive, maxStale);

    internal void Validate(string settings)
    {
        if (TimeToLive <= TimeSpan.Zero || RefreshAhead < TimeSpan.Zero || RefreshAhead > TimeToLive || MaxStale < TimeSpan.Zero
            || AbsentTimeToLive < TimeSpan.Zero || AbsentCapacity <= 0)
        {
            throw new ArgumentOutOfRangeException(settings,
                $"{settings}: the time to live must be positive, refresh-ahead between zero and it, the stale bound not negative.");
        }
    }
}
