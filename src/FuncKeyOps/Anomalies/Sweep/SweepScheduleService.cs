using Cronos;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// Runs <see cref="SweepRunner"/> at each occurrence of <see cref="AnomalyOptions.Schedule"/> (Cronos, UTC) of the
/// injected <see cref="TimeProvider"/>: the Server host's counterpart of the Functions app's timer trigger. Every
/// instance runs it; the checkpoint's lease lets one of them sweep and the others find it held.
/// </summary>
public sealed partial class SweepScheduleService(
    SweepRunner runner,
    IOptions<AnomalyOptions> options,
    TimeProvider time,
    ILogger<SweepScheduleService> logger) : BackgroundService
{
    // Task.Delay takes at most about 49 days; a rarer schedule waits in steps and looks again.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly CronExpression _cron = options.Value.TryParseSchedule()
        ?? throw new OptionsValidationException(AnomalyOptions.Section, typeof(AnomalyOptions), [$"Anomalies:Schedule '{options.Value.Schedule}' is not a cron expression."]);

    // Taken when the service starts (StartAsync), not when ExecuteAsync gets to run: time passing in between still counts.
    private DateTimeOffset? _next;

    private TaskCompletionSource<SweepRunResult> _ran = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The occurrence the service waits for (tests check it instead of waiting).</summary>
    internal DateTimeOffset? NextRun => _next ??= _cron.GetNextOccurrence(time.GetUtcNow(), TimeZoneInfo.Utc);

    /// <summary>Completes with the result of the next run; by then <see cref="NextRun"/> is the occurrence after it.</summary>
    internal Task<SweepRunResult> NextRunCompleted => Volatile.Read(ref _ran).Task;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _ = NextRun;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (NextRun is { } next)
        {
            SweepRunResult? run = null;
            try
            {
                await DelayUntilAsync(next, stoppingToken).ConfigureAwait(false);
                run = await runner.RunAsync(includeOpenWindow: false, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
            // The occurrence after now, not after the one just run: occurrences missed while a run took long (or a paused
            // clock jumped) are not run one after another; the next run catches up every closed window anyway.
            var now = time.GetUtcNow();
            _next = _cron.GetNextOccurrence(now > next ? now : next, TimeZoneInfo.Utc);
            if (run is not null)
                Interlocked.Exchange(ref _ran, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(run);
        }
    }

    private async Task DelayUntilAsync(DateTimeOffset target, CancellationToken cancellationToken)
    {
        for (var wait = target - time.GetUtcNow(); wait > TimeSpan.Zero; wait = target - time.GetUtcNow())
        {
            var elapsed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var timer = time.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), elapsed,
                wait < LongestWait ? wait : LongestWait, Timeout.InfiniteTimeSpan);
            // The clock may have moved between reading it and arming the timer: the timer then counts from too late.
            if (time.GetUtcNow() >= target)
                return;
            await elapsed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Anomaly sweep failed; the next occurrence sweeps its windows again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
