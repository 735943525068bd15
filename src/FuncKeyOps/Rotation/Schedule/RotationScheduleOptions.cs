using Cronos;

namespace FuncKeyOps.Rotation.Schedule;

/// <summary>When the Server host runs <see cref="RotationSchedule"/>; configuration section <c>Rotation</c>.</summary>
public sealed class RotationScheduleOptions
{
    public const string Section = "Rotation";

    /// <summary>A five-field cron expression, in UTC. Default: daily at 03:00.</summary>
    public string Schedule { get; set; } = "0 3 * * *";

    internal CronExpression? TryParse() => CronExpression.TryParse(Schedule, out var cron) ? cron : null;
}
