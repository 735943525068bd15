using Cronos;
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
    TimeProvider time,
    ILogger<RotationScheduleService> logger) : BackgroundService
{
    // Task.Delay takes at most about 49 days; a rarer schedule waits in steps and looks again.
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly CronExpression _cron = options.Value.TryParse()
        ?? throw new OptionsValidationException(RotationScheduleOptions.Section, typeof(RotationScheduleOptions), [$"Rotation:Schedule '{options.Value.Schedule}' is not a cron expression."]);

    /// <summary>The occurrence the service waits for (tests check it instead of waiting for the day to pass).</summary>
    internal DateTimeOffset? NextRun { get; private set; }

    /// <summary>Completes with the result of the next run (tests wait on it instead of sleeping).</summary>
    internal Task<ScheduleRun> NextRunCompleted => _ran.Task;

    private TaskCompletionSource<ScheduleRun> _ran = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var from = time.GetUtcNow();
        while (_cron.GetNextOccurrence(from, TimeZoneInfo.Utc) is { } next)
        {
            NextRun = next;
            try
            {
                for (var wait = next - time.GetUtcNow(); wait > TimeSpan.Zero; wait = next - time.GetUtcNow())
                    await Task.Delay(wait < LongestWait ? wait : LongestWait, time, stoppingToken).ConfigureAwait(false);
                var run = await schedule.RunAsync(stoppingToken).ConfigureAwait(false);
                LogRan(logger, run.With(ScheduleAction.RotationStarted).Count(), run.With(ScheduleAction.Warned).Count(), run.Keys.Count);
                Interlocked.Exchange(ref _ran, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(run);
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
            from = next;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation schedule: {Started} rotations started, {Warned} keys in their warning window, of {Keys} keys")]
    private static partial void LogRan(ILogger logger, int started, int warned, int keys);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rotation schedule run failed; the next occurrence tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
