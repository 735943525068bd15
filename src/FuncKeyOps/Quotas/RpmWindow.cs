using System.Threading.RateLimiting;

namespace FuncKeyOps.Quotas;

/// <summary>
/// One quota subject's (relay key's or provider key's) request permits for one UTC minute (by <see cref="TimeProvider"/>).
/// A fresh limiter per minute, rather than one limiter replenished in place: a non-auto-replenishing
/// <see cref="FixedWindowRateLimiter"/> still measures its window with the real clock inside
/// <see cref="ReplenishingRateLimiter.TryReplenish"/>, so only swapping limiters lets the TimeProvider decide when
/// a minute ends; the minute is also the one the shared minute row counts (a ring of 60 rows per key, <c>n00</c>-<c>n59</c>,
/// whose <c>Window</c> says which minute it holds: see <see cref="UsageWindow"/>).
/// Used only under the owning <see cref="KeyQuotaState"/>'s lock.
/// </summary>
internal sealed class RpmWindow : IDisposable
{
    private readonly FixedWindowRateLimiter? _limiter;
    private long _othersTaken;

    public RpmWindow(UsageWindow minute, int rpm)
    {
        Minute = minute;
        if (rpm > 0)
        {
            _limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = rpm,
                Window = TimeSpan.FromMinutes(1),
                AutoReplenishment = false, // no timer: this object is discarded when its minute ends
                QueueLimit = 0,
            });
        }
    }

    public UsageWindow Minute { get; }

    public bool TryTake()
    {
        if (_limiter is null)
            return false;
        using var lease = _limiter.AttemptAcquire();
        return lease.IsAcquired;
    }

    /// <summary>
    /// Takes the permits other instances used this minute (a running total read from storage), so what this
    /// instance still admits is what is left of the key's RPM globally.
    /// </summary>
    public void AccountForOthers(long othersTotal)
    {
        var newlySeen = othersTotal - _othersTaken;
        if (_limiter is null || newlySeen <= 0)
            return;
        _othersTaken = othersTotal;
        var take = (int)Math.Min(newlySeen, _limiter.GetStatistics()!.CurrentAvailablePermits);
        if (take > 0)
        {
            using var lease = _limiter.AttemptAcquire(take);
        }
    }

    public void Dispose() => _limiter?.Dispose();
}
