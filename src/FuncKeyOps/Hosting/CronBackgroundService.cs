using Cronos;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Hosting;

/// <summary>
/// Runs a job at each occurrence of a cron expression (Cronos, UTC) of the injected <see cref="TimeProvider"/>: the
/// Server host's counterpart of a Functions timer trigger. A run that throws is logged and the next occurrence runs
/// again; only the host stopping ends the loop. Every instance runs its own: the jobs are safe to run twice.
/// </summary>
/// <remarks>
/// Written here rather than taken from a package: the hosted-service cron libraries read the system clock, and the
/// tests drive these schedules with a fake <see cref="TimeProvider"/>.
/// </remarks>
public abstract partial class CronBackgroundService<TResult> : BackgroundService where TResult : class
{
    // Task.Delay takes at most about 49 days; a rarer schedule waits in steps and looks again.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly CronExpression _cron;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _job;

    // Taken when the service starts (StartAsync), not when ExecuteAsync gets to run on the thread pool: time that passes
    // in between still counts.
    private DateTimeOffset? _next;

    private TaskCompletionSource<TResult> _ran = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="job">The job's name in log lines (e.g. "Anomaly sweep").</param>
    /// <param name="setting">The setting the schedule came from, named when it is not a cron expression.</param>
    protected CronBackgroundService(string job, string setting, string? schedule, TimeProvider time, ILogger logger)
    {
        _job = job;
        _time = time;
        _logger = logger;
        // Options validation refuses a bad schedule as the host starts; this guards a service built without it.
        _cron = CronSchedule.TryParse(schedule)
            ?? throw new ArgumentException($"{setting} '{schedule}' is not a cron expression.", nameof(schedule));
    }

    /// <summary>The occurrence the service waits for (tests check it instead of waiting for it to pass).</summary>
    internal DateTimeOffset? NextRun => _next ??= _cron.GetNextOccurrence(_time.GetUtcNow(), TimeZoneInfo.Utc);

    /// <summary>Completes with the result of the next run; by then <see cref="NextRun"/> is the occurrence after it.</summary>
    internal Task<TResult> NextRunCompleted => Volatile.Read(ref _ran).Task;

    /// <summary>False keeps the service idle (a host that runs the job another way).</summary>
    protected virtual bool Enabled => true;

    /// <summary>One run of the job.</summary>
    protected abstract Task<TResult> RunJobAsync(CancellationToken cancellationToken);

    /// <summary>Logs what a run did (the job's own summary); nothing by default.</summary>
    protected virtual void OnRan(TResult result)
    {
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _ = NextRun;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
            return;
        while (NextRun is { } next)
        {
            TResult? run = null;
            try
            {
                await DelayUntilAsync(next, stoppingToken).ConfigureAwait(false);
                run = await RunJobAsync(stoppingToken).ConfigureAwait(false);
                OnRan(run);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(_logger, _job, e);
            }
            // The occurrence after now, and never the one just run again (a run ending within its own second): occurrences
            // missed while a run took long (or a paused clock jumped) are not run one after another. Each job covers all
            // that is due when it runs (every closed window, every key past its period, every expired table).
            var now = _time.GetUtcNow();
            _next = _cron.GetNextOccurrence(now > next ? now : next, TimeZoneInfo.Utc);
            if (run is not null)
                Interlocked.Exchange(ref _ran, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(run);
        }
    }

    private async Task DelayUntilAsync(DateTimeOffset target, CancellationToken cancellationToken)
    {
        for (var wait = target - _time.GetUtcNow(); wait > TimeSpan.Zero; wait = target - _time.GetUtcNow())
        {
            var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var timer = _time.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), elapsed,
                wait < LongestWait ? wait : LongestWait, Timeout.InfiniteTimeSpan);
            // The clock may have moved between reading it and arming the timer: the timer then counts from too late.
            if (_time.GetUtcNow() >= target)
                return;
            await elapsed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Job} failed; the next occurrence runs it again")]
    private static partial void LogFailed(ILogger logger, string job, Exception exception);
}
