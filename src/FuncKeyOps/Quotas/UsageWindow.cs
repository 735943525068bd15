using System.Globalization;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Quotas;

internal enum UsageWindowKind { Minute, Day, Month }

/// <summary>One UTC counting window of a <see cref="QuotaSubject"/>, matching one row of the <c>usage</c> table.</summary>
internal readonly record struct UsageWindow(UsageWindowKind Kind, DateTimeOffset Start)
{
    public static UsageWindow Containing(UsageWindowKind kind, DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var start = kind switch
        {
            UsageWindowKind.Minute => new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, DateTimeKind.Utc),
            UsageWindowKind.Day => utc.Date,
            _ => new DateTime(utc.Year, utc.Month, 1, 0, 0, 0, DateTimeKind.Utc),
        };
        return new UsageWindow(kind, new DateTimeOffset(start));
    }

    public DateTimeOffset End => Kind switch
    {
        UsageWindowKind.Minute => Start.AddMinutes(1),
        UsageWindowKind.Day => Start.AddDays(1),
        _ => Start.AddMonths(1),
    };

    public bool Contains(DateTimeOffset time) => time >= Start && time < End;

    /// <summary>
    /// <c>n05</c> (minute of the hour), <c>d20261123</c> or <c>m202611</c>. Minute rows are a ring of 60 per key,
    /// each reused an hour later (<see cref="Stamp"/> tells whose minute a row holds): an RPM count matters only
    /// during its minute, and a row per minute kept forever would grow the table by 1,440 rows a day per key.
    /// </summary>
    public string RowKey => Kind switch
    {
        // TableKeys has no minute format; this one is only read and written by Quotas.
        UsageWindowKind.Minute => "n" + Start.UtcDateTime.ToString("mm", CultureInfo.InvariantCulture),
        UsageWindowKind.Day => TableKeys.DailyWindow(Start),
        _ => TableKeys.MonthlyWindow(Start),
    };

    /// <summary>The minute a ring row holds (<c>202611230805</c>; ordinal order is time order); null for day and month rows.</summary>
    public string? Stamp => Kind == UsageWindowKind.Minute ? Start.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture) : null;
}
