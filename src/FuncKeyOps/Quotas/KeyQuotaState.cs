using FuncKeyOps.Errors;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Quotas;

/// <summary>
/// Everything one instance holds for one <see cref="QuotaSubject"/> (a relay key or a provider key): its usage
/// counters per window and its current RPM window.
/// One lock per key: the request path holds it for a few field updates, the flusher only between storage calls.
/// Once retired (idle and fully stored) it refuses updates, so none can land on a state nobody flushes.
/// </summary>
internal sealed class KeyQuotaState(string keyId)
{
    private readonly Lock _sync = new();
    private readonly Dictionary<UsageWindow, UsageCounter> _counters = [];
    private RpmWindow? _rpm;
    private QuotaSubject? _limits;
    private DateTimeOffset _lastSeen;
    private bool _retired;

    public string KeyId { get; } = keyId;

    /// <summary>The decision, or null when this state was retired and the caller must use a fresh one.</summary>
    public QuotaDecision? TryAcquire(in QuotaSubject key, DateTimeOffset now)
    {
        lock (_sync)
        {
            if (_retired)
                return null;
            Touch(key, now);
            // Longest wait first: a client told to retry after the daily reset would be refused again.
            if (Exhausted(UsageWindowKind.Month, key.MonthlyTokens, now, FuncKeyOpsErrors.MonthlyTokens) is { } monthly)
                return monthly;
            if (Exhausted(UsageWindowKind.Day, key.DailyTokens, now, FuncKeyOpsErrors.DailyTokens) is { } daily)
                return daily;
            // TPM (provider keys only) is a count compared, not a rate limiter: a call's tokens are known only when
            // it ends, so a call is admitted while the minute's tokens so far are under the ceiling. Its refusal
            // reads "rpm" too; only ProviderKeyLimiter sees it, and it passes on just the wait.
            if (Exhausted(UsageWindowKind.Minute, key.Tpm, now, FuncKeyOpsErrors.RateLimited) is { } tpm)
                return tpm;
            if (key.Rpm is { } rpm)
            {
                var minute = CurrentRpmWindow(rpm, now);
                if (!minute.TryTake())
                    return new QuotaDecision(false, minute.Minute.End - now, FuncKeyOpsErrors.RateLimited);
                var counter = Counter(minute.Minute);
                counter.Pending += new UsageTotals(0, 1);
            }
            return QuotaDecision.Allow;
        }
    }

    /// <summary>False when this state was retired and the caller must use a fresh one.</summary>
    public bool TryRecord(in QuotaSubject key, TokenUsage usage, DateTimeOffset now)
    {
        lock (_sync)
        {
            if (_retired)
                return false;
            Touch(key, now);
            var tokens = Math.Max(0, usage.Total);
            if (key.CountsDaysAndMonths)
            {
                var delta = new UsageTotals(tokens, 1);
                Counter(UsageWindow.Containing(UsageWindowKind.Day, now)).Pending += delta;
                Counter(UsageWindow.Containing(UsageWindowKind.Month, now)).Pending += delta;
            }
            // The minute the call ended in: its Requests were counted when it was admitted.
            if (key.Tpm is not null)
                Counter(UsageWindow.Containing(UsageWindowKind.Minute, now)).Pending += new UsageTotals(tokens, 0);
            return true;
        }
    }

    /// <summary>
    /// Counters the flush should visit: those with usage to store, and current windows with a limit, whose
    /// shared totals other instances move.
    /// </summary>
    public IReadOnlyList<UsageCounter> CountersToFlush(DateTimeOffset now)
    {
        lock (_sync)
        {
            return _counters.Values.Where(c => !c.IsSettled || (c.Window.Contains(now) && Limit(c.Window.Kind) is not null)).ToList();
        }
    }

    /// <summary>
    /// The merge to try: one left unconfirmed by an earlier flush (<paramref name="resumed"/>), which must be retried
    /// with its own token, else a new one for all pending usage; null when nothing is pending.
    /// </summary>
    public MergeAttempt? BeginMerge(UsageCounter counter, Func<string> newToken, out bool resumed)
    {
        lock (_sync)
        {
            resumed = counter.Attempt is not null;
            if (counter.Attempt is null && !counter.Pending.IsZero)
                counter.Attempt = new MergeAttempt(counter.Pending, newToken());
            return counter.Attempt;
        }
    }

    /// <summary>The row holds the attempt's delta (and <paramref name="rowTotals"/> in all).</summary>
    public void ConfirmMerge(UsageCounter counter, MergeAttempt attempt, UsageTotals rowTotals)
    {
        lock (_sync)
        {
            // Global before Pending shrinks, in one lock: readers never see the delta missing from both.
            counter.Global = rowTotals;
            counter.Pending -= attempt.Delta;
            counter.MergedHere += attempt.Delta;
            counter.Attempt = null;
            ApplyOthers(counter);
        }
    }

    /// <summary>A read-only refresh of the shared totals.</summary>
    public void Refresh(UsageCounter counter, UsageTotals rowTotals)
    {
        lock (_sync)
        {
            counter.Global = rowTotals;
            ApplyOthers(counter);
        }
    }

    /// <summary>The budget and observed tokens when the window's shared total is at or past the warning ratio and not yet recorded.</summary>
    public (long Budget, long Observed)? WarningDue(UsageCounter counter, double ratio)
    {
        lock (_sync)
        {
            if (counter.WarningRecorded || counter.Window.Kind == UsageWindowKind.Minute || Limit(counter.Window.Kind) is not { } budget)
                return null;
            var observed = counter.Global.Tokens;
            return observed >= budget * ratio ? (budget, observed) : null;
        }
    }

    public void MarkWarningRecorded(UsageCounter counter)
    {
        lock (_sync)
            counter.WarningRecorded = true;
    }

    /// <summary>Drops stored counters of past windows; retires the whole state when idle with nothing left to store.</summary>
    public bool TryRetire(DateTimeOffset now, TimeSpan idleTimeout)
    {
        lock (_sync)
        {
            foreach (var (window, _) in _counters.Where(c => !c.Key.Contains(now) && c.Value.IsSettled).ToList())
                _counters.Remove(window);
            if (_rpm is not null && !_rpm.Minute.Contains(now))
            {
                _rpm.Dispose();
                _rpm = null;
            }
            if (now - _lastSeen < idleTimeout || _counters.Values.Any(c => !c.IsSettled))
                return false;
            _retired = true;
            _rpm?.Dispose();
            _rpm = null;
            return true;
        }
    }

    private void Touch(in QuotaSubject key, DateTimeOffset now)
    {
        // Limits follow the latest key record: an admin change applies from the next request (RPM: next minute).
        _limits = key;
        _lastSeen = now;
    }

    private QuotaDecision? Exhausted(UsageWindowKind kind, long? budget, DateTimeOffset now, FuncKeyOpsError reason)
    {
        if (budget is not { } limit)
            return null;
        var counter = Counter(UsageWindow.Containing(kind, now));
        return counter.Known.Tokens >= limit ? new QuotaDecision(false, counter.Window.End - now, reason) : null;
    }

    private RpmWindow CurrentRpmWindow(int rpm, DateTimeOffset now)
    {
        var minute = UsageWindow.Containing(UsageWindowKind.Minute, now);
        if (_rpm?.Minute == minute)
            return _rpm;
        _rpm?.Dispose();
        _rpm = new RpmWindow(minute, rpm);
        if (_counters.TryGetValue(minute, out var known))
            _rpm.AccountForOthers((known.Global - known.MergedHere).Requests);
        return _rpm;
    }

    private void ApplyOthers(UsageCounter counter)
    {
        if (counter.Window.Kind == UsageWindowKind.Minute && _rpm?.Minute == counter.Window)
            _rpm.AccountForOthers((counter.Global - counter.MergedHere).Requests);
    }

    private long? Limit(UsageWindowKind kind) => kind switch
    {
        UsageWindowKind.Minute => _limits?.Rpm ?? _limits?.Tpm,
        UsageWindowKind.Day => _limits?.DailyTokens,
        _ => _limits?.MonthlyTokens,
    };

    private UsageCounter Counter(UsageWindow window)
    {
        if (!_counters.TryGetValue(window, out var counter))
            _counters[window] = counter = new UsageCounter(window);
        return counter;
    }
}
