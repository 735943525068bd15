using FuncKeyOps.Hosting;
using FuncKeyOps.Rotation.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Rotation.Schedule;

/// <summary>
/// Runs <see cref="RotationSchedule"/> at each occurrence of <see cref="RotationScheduleOptions.Schedule"/>: the Server
/// host's counterpart of the Functions app's timer trigger. Every instance runs it: a second run finds the rotation
/// already running and repeats an alert with the same dedupe key.
/// </summary>
public sealed partial class RotationScheduleService(
    RotationSchedule schedule,
    IOptions<RotationScheduleOptions> options,
    IOptions<RotationDriverOptions> driver,
    TimeProvider time,
    ILogger<RotationScheduleService> logger)
    : CronBackgroundService<ScheduleRun>("Rotation schedule", "Rotation:Schedule", options.Value.Schedule, time, logger)
{
    protected override bool Enabled => driver.Value.Drive;

    protected override Task<ScheduleRun> RunJobAsync(CancellationToken cancellationToken) => schedule.RunAsync(cancellationToken);

    protected override void OnRan(ScheduleRun result) =>
        LogRan(logger, result.With(ScheduleAction.RotationStarted).Count(), result.With(ScheduleAction.Warned).Count(), result.Keys.Count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation schedule: {Started} rotations started, {Warned} keys in their warning window, of {Keys} keys")]
    private static partial void LogRan(ILogger logger, int started, int warned, int keys);
}
