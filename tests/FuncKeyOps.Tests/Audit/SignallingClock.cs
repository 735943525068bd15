using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// A fake clock that reports each timer created on it, so a test advances time exactly when the writer is
/// waiting (out a retry delay, or for rows to join a batch) instead of guessing with sleeps.
/// </summary>
/// <param name="reportChanges">Also report a timer moved on (<c>CancellationTokenSource.CancelAfter</c>): a deadline
/// restarted after the test advanced has to be advanced past again.</param>
internal sealed class SignallingClock(DateTimeOffset start, bool reportChanges = false) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return reportChanges ? new ReportingTimer(timer, _timers.Writer) : timer;
    }

    private sealed class ReportingTimer(ITimer timer, ChannelWriter<TimeSpan> reports) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = timer.Change(dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
                reports.TryWrite(dueTime);
            return changed;
        }

        public void Dispose() => timer.Dispose();

        public ValueTask DisposeAsync() => timer.DisposeAsync();
    }

    /// <summary>Waits until the next timer is scheduled (for the writer: it is lingering, or a write failed and it is backing off).</summary>
    public Task<TimeSpan> NextTimerAsync() => _timers.Reader.ReadAsync().AsTask().WaitAsync(AuditHarness.Timeout);

    /// <summary>
    /// Advances by <paramref name="step"/> (at least the longest retry delay) and again after each new timer,
    /// until <paramref name="done"/> completes. Every pending timer fires on the advance that follows it.
    /// </summary>
    public async Task AdvanceUntilAsync(Task done, TimeSpan step)
    {
        while (!done.IsCompleted)
        {
            Advance(step);
            await Task.WhenAny(done, _timers.Reader.WaitToReadAsync().AsTask()).WaitAsync(AuditHarness.Timeout);
            _timers.Reader.TryRead(out _);
        }
        await done;
    }
}
