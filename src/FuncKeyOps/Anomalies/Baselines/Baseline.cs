namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>Median and MAD of one measure over a subject's samples of one hour-of-week, per hour.</summary>
public readonly record struct BaselineStat(double Median, double Mad)
{
    /// <summary>The same per sweep window: an hour holds 12, and the detectors judge one window at a time.</summary>
    public BaselineStat PerWindow => new(Median / WindowsPerHour, Mad / WindowsPerHour);

    private const double WindowsPerHour = 12;
}

/// <summary>How the samples of a baseline were chosen.</summary>
internal enum BaselineMethod
{
    /// <summary>The same hour-of-week of each of the last 4 weeks: once the subject has 3 weeks of history.</summary>
    HourOfWeek,

    /// <summary>The same hour-of-day of each of the last 7 days: until then.</summary>
    HourOfDay,
}

/// <summary>
/// What a subject's calls, tokens and errors usually are in one hour-of-week (UTC): a row of the <c>baselines</c>
/// table (PartitionKey the subject, RowKey the hour-of-week).
/// </summary>
/// <param name="Subject"><c>relay-key:{id}</c> or <c>provider-key:{name}</c>, as findings name them.</param>
/// <param name="HourOfWeek">0 is Monday 00:00-01:00 UTC, 167 Sunday 23:00-24:00.</param>
/// <param name="Hour">The hour it was computed for (from samples before it).</param>
/// <param name="Since">When the subject was first seen in a rollup: its history starts there.</param>
/// <param name="Samples">How many hours the statistics are over (excluded and unswept hours left out).</param>
internal sealed record Baseline(
    string Subject,
    int HourOfWeek,
    DateTimeOffset Hour,
    DateTimeOffset Since,
    BaselineMethod Method,
    int Samples,
    BaselineStat Calls,
    BaselineStat Tokens,
    BaselineStat Errors)
{
    public static int HourOfWeekOf(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return ((int)utc.DayOfWeek + 6) % 7 * 24 + utc.Hour;
    }
}
