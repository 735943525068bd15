using Cronos;
using FuncKeyOps.Hosting;

namespace FuncKeyOps.Rotation.Schedule;

/// <summary>When the Server host runs <see cref="RotationSchedule"/>; configuration section <c>Rotation</c>.</summary>
public sealed class RotationScheduleOptions
{
    public const string Section = "Rotation";

    /// <summary>
    /// A cron expression in UTC: five fields, or six with seconds first as the Functions app's timer reads the same
    /// setting (NCRONTAB), so one value means the same in both hosts. Default: daily at 03:00.
    /// </summary>
    public string Schedule { get; set; } = "0 3 * * *";

    internal CronExpression? TryParse() => CronSchedule.TryParse(Schedule);
}
