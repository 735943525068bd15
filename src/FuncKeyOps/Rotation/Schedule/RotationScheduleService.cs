using Cronos;
using FuncKeyOps.Rotation.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Rotation.Schedule;

/// <summary>
/// Runs <see cref="RotationSchedule"/> at each occurrence of <see cref="RotationScheduleOptions.Schedule"/> (Cronos, UTC)
/// of the injected <see cref="TimeProvider"/>. The Server host's counterpart of the Functions app's timer trigger. Every
/// instance runs it: a second run finds the rotation already running and repeats an alert with the same dedupe key.
/// </summary>
public sealed partial class RotationScheduleService(
    RotationSchedule schedule,
    IOptions<RotationScheduleOptions> options,
    IOptions<RotationDriverOptions> driver,
    TimeProvider time,
    ILogger<RotationScheduleService> logger) : BackgroundService
{
    // Task.Delay takes at most about 49 days; a rarer schedule waits in steps and looks again.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly CronExpression _cron = options.Value.TryParse()
        ?? throw new OptionsValidationException(RotationScheduleOptions.Section, typeof(RotationScheduleOptions), [$"Rotation:Schedule '{options.Value.Schedule}' is not a cron expression."]);

    // The first occurrence is taken when the service starts (StartAsync), not when ExecuteAsync gets to run on the
    // thread pool: time that passes in between still counts.
    private DateTimeOffset? _next;

    private TaskCompletionSource<ScheduleRun> _ran = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The occurrence the service waits for (tests check it instead of waiting for the day to pass).</summary>
    internal DateTimeOffset? NextRun => _next ??= _cron.GetNextOccurrence(time.GetUtcNow(), TimeZoneInfo.Utc);

    /// <summary>Completes with the result of the next run; by then <see cref="NextRun"/> is the occurrence after it.</summary>
    internal Task<ScheduleRun> NextRunCompleted => Volatile.Read(ref _ran).Task;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _ = NextRun;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!driver.Value.Drive)
            return;
        while (NextRun is { } next)
        {
            ScheduleRun? run = null;
            try
            {
                await DelayUntilAsync(next, stoppingToken).ConfigureAwait(false);
                run = await schedule.RunAsync(stoppingToken).ConfigureAwait(false);
                LogRan(logger, run.With(ScheduleAction.RotationStarted).Count(), run.With(ScheduleAction.Warned).Count(), run.Keys.Count);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogFailed(logger, e);
            }
            // From the occurrence, not from now: a run that ends within the same minute must not run again.
            _next = _cron.GetNextOccurrence(next, TimeZoneInfo.Utc);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation schedule: {Started} rotations started, {Warned} keys in their warning window, of {Keys} keys")]
    private static partial void LogRan(ILogger logger, int started, int warned, int keys);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rotation schedule run failed; the next occurrence tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
