using System.Globalization;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>How long a rollup period is: a sweep window, an hour compacted from 12 windows, a day from 24 hours.</summary>
internal enum RollupLevel
{
    Window,
    Hour,
    Day,
}

/// <summary>
/// One window, hour or day of rollups, aligned to the UTC clock. Its <see cref="Id"/> (<c>w{yyyyMMddHHmm}</c>,
/// <c>h{yyyyMMddHH}</c>, <c>d{yyyyMMdd}</c>) is the partition of its cells and the row key of its marker; ids of one
/// level sort as their times do, so a span of periods is a row-key range.
/// </summary>
internal readonly record struct RollupPeriod
{
    private RollupPeriod(RollupLevel level, DateTimeOffset start)
    {
        Level = level;
        Start = start;
    }

    public RollupLevel Level { get; }
    public DateTimeOffset Start { get; }
    public DateTimeOffset End => Start + LengthOf(Level);
    public string Id => IdOf(Level, Start);

    public static RollupPeriod Of(SweepWindow window) => new(RollupLevel.Window, window.Start);

    /// <summary>The period of <paramref name="level"/> holding <paramref name="time"/>.</summary>
    public static RollupPeriod Containing(RollupLevel level, DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new(level, new DateTimeOffset(ticks - ticks % LengthOf(level).Ticks, TimeSpan.Zero));
    }

    /// <summary>The first period of <paramref name="level"/> starting at or after <paramref name="time"/>.</summary>
    public static RollupPeriod AtOrAfter(RollupLevel level, DateTimeOffset time)
    {
        var period = Containing(level, time);
        return period.Start < time ? period.Next : period;
    }

    public RollupPeriod Next => new(Level, End);

    /// <summary>The hour of a window, the day of an hour; none above a day.</summary>
    public RollupPeriod? Parent => Level switch
    {
        RollupLevel.Window => Containing(RollupLevel.Hour, Start),
        RollupLevel.Hour => Containing(RollupLevel.Day, Start),
        _ => null,
    };

    /// <summary>The periods a compacted period is summed from: an hour's 12 windows, a day's 24 hours.</summary>
    public IReadOnlyList<RollupPeriod> Parts()
    {
        var parts = new List<RollupPeriod>();
        if (Level == RollupLevel.Window)
            return parts;
        var level = Level == RollupLevel.Day ? RollupLevel.Hour : RollupLevel.Window;
        for (var part = new RollupPeriod(level, Start); part.Start < End; part = part.Next)
            parts.Add(part);
        return parts;
    }

    public static TimeSpan LengthOf(RollupLevel level) => level switch
    {
        RollupLevel.Window => SweepWindow.Length,
        RollupLevel.Hour => TimeSpan.FromHours(1),
        _ => TimeSpan.FromDays(1),
    };

    /// <summary>The id of the period of <paramref name="level"/> starting at <paramref name="start"/> (aligned).</summary>
    public static string IdOf(RollupLevel level, DateTimeOffset start) => level switch
    {
        RollupLevel.Window => "w" + start.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture),
        RollupLevel.Hour => "h" + start.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture),
        _ => "d" + start.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
    };

    public static bool TryParse(string? id, out RollupPeriod period)
    {
        period = default;
        if (id is not { Length: > 1 })
            return false;
        (RollupLevel level, string? format) = id[0] switch
        {
            'w' => (RollupLevel.Window, "yyyyMMddHHmm"),
            'h' => (RollupLevel.Hour, "yyyyMMddHH"),
            'd' => (RollupLevel.Day, "yyyyMMdd"),
            _ => (RollupLevel.Window, null),
        };
        if (format is null || !DateTimeOffset.TryParseExact(id[1..], format, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start)
            || start.UtcTicks % LengthOf(level).Ticks != 0)
            return false;
        period = new(level, start);
        return true;
    }

    public override string ToString() => Id;
}
