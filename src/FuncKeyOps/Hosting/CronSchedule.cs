using Cronos;

namespace FuncKeyOps.Hosting;

/// <summary>
/// The cron settings both hosts share (<c>Rotation:Schedule</c>, <c>Anomalies:Schedule</c>, <c>Retention:Schedule</c>):
/// six fields with seconds first as the Functions timer reads the same setting (NCRONTAB), or five, both in UTC, so one
/// value means the same in either host.
/// </summary>
internal static class CronSchedule
{
    public static CronExpression? TryParse(string? schedule)
    {
        if (string.IsNullOrWhiteSpace(schedule))
            return null;
        var format = schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        return CronExpression.TryParse(schedule, format, out var cron) ? cron : null;
    }
}
