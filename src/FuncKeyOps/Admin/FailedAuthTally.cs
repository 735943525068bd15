using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Admin;

/// <summary>
/// Failed authentications on the tenant routes, which are anonymous on the Functions host (tenants hold no function
/// key): anyone may send them, so none may cost a row and a log line of its own. They are counted per source address
/// and minute: one admin event row per source and minute carries the count (<see cref="AdminEvent.Count"/>), merged
/// by ETag off the call's path with at most one write in flight per row, and one warning per source, minute and
/// instance. A crash loses only the counts of the write then in flight or waiting; they are a measure, not a change.
/// A graceful shutdown stores them first (<see cref="StopAsync"/>).
/// </summary>
public sealed partial class FailedAuthTally(AdminEventStore store, TimeProvider time, ILogger<FailedAuthTally> logger) : IHostedService
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(DateTimeOffset Minute, string Source), Tally> _tallies = new();

    /// <summary>Counts one failure, described as the gate would have recorded it.</summary>
    public void Count(AdminEvent failure, AdminAuthOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var minute = new DateTimeOffset(failure.Time.UtcTicks - failure.Time.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        var source = failure.SourceIp ?? "unknown";
        var created = false;
        var tally = _tallies.GetOrAdd((minute, source), key =>
        {
            created = true;
            return new Tally(AdminEventStore.Tally(key.Minute, key.Source, failure.Route));
        });
        if (created)
        {
            LogCounted(logger, outcome, failure.SourceIp, failure.Method, failure.Route, minute);
            ForgetWritten(minute);
        }
        if (tally.Add())
            tally.Running = Task.Run(() => WriteAsync(tally));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stores what is counted before the host goes (each write is bounded by its own timeout).</summary>
    public Task StopAsync(CancellationToken cancellationToken) => FlushAsync();

    /// <summary>Writes what is counted and not yet stored, and waits for writes in flight.</summary>
    internal async Task FlushAsync()
    {
        foreach (var tally in _tallies.Values)
        {
            if (tally.Add(0))
                tally.Running = Task.Run(() => WriteAsync(tally));
            await tally.Running.ConfigureAwait(false);
        }
    }

    private async Task WriteAsync(Tally tally)
    {
        while (tally.Take() is { } delta)
        {
            using var timeout = new CancellationTokenSource(WriteTimeout, time);
            try
            {
                await store.AddToTallyAsync(tally.Row, delta, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or Azure.RequestFailedException || StorageFailure.Is(e))
            {
                // Kept for the next failure from this source (or the next flush) to write again; never retried in a loop.
                tally.PutBack(delta);
                LogNotStored(logger, tally.Row.SourceIp, tally.Row.Time, e.GetType().Name);
                return;
            }
        }
    }

    // Rows of minutes gone by, written out: the table has them; memory keeps only the current ones.
    private void ForgetWritten(DateTimeOffset now)
    {
        foreach (var (key, tally) in _tallies)
        {
            if (key.Minute < now && tally.IsIdle)
                _tallies.TryRemove(new KeyValuePair<(DateTimeOffset, string), Tally>(key, tally));
        }
    }

    private sealed class Tally(AdminEvent row)
    {
        private readonly Lock _sync = new();
        private long _pending;
        private bool _writing;

        public AdminEvent Row { get; } = row;

        public Task Running { get; set; } = Task.CompletedTask;

        public bool IsIdle
        {
            get
            {
                lock (_sync)
                    return !_writing && _pending == 0;
            }
        }

        /// <summary>Adds to the count; true when the caller must start the write (none is running).</summary>
        public bool Add(long count = 1)
        {
            lock (_sync)
            {
                _pending += count;
                if (_writing || _pending == 0)
                    return false;
                _writing = true;
                return true;
            }
        }

        /// <summary>What to write now, or null (the writer stops) when nothing is pending.</summary>
        public long? Take()
        {
            lock (_sync)
            {
                if (_pending == 0)
                {
                    _writing = false;
                    return null;
                }
                var delta = _pending;
                _pending = 0;
                return delta;
            }
        }

        public void PutBack(long delta)
        {
            lock (_sync)
            {
                _pending += delta;
                _writing = false;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Authentication failed ({Outcome}) from {SourceIp} for {Method} {Route}; failures from this address in the minute from {Minute:O} are counted in one admin event, not logged each")]
    private static partial void LogCounted(ILogger logger, AdminAuthOutcome outcome, string? sourceIp, string method, string route, DateTimeOffset minute);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed authentications from {SourceIp} in the minute from {Minute:O} not stored yet ({Failure}); kept for the next write")]
    private static partial void LogNotStored(ILogger logger, string? sourceIp, DateTimeOffset minute, string failure);
}
