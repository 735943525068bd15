using System.Globalization;

namespace FuncKeyOps.Anomalies;

/// <summary>
/// One sweep window: five minutes of audit time, [<see cref="Start"/>, <see cref="End"/>), aligned to the UTC clock.
/// Audit partitions are per second, so a window is an exact partition-key range.
/// </summary>
public readonly record struct SweepWindow
{
    public static readonly TimeSpan Length = TimeSpan.FromMinutes(5);

    private SweepWindow(DateTimeOffset start) => Start = start;

    public DateTimeOffset Start { get; }
    public DateTimeOffset End => Start + Length;

    /// <summary>Stable text of the window (<c>yyyyMMddHHmm</c> of its start, UTC): in finding ids and the checkpoint.</summary>
    public string Id => Start.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    /// <summary>The window holding <paramref name="time"/>.</summary>
    public static SweepWindow Containing(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new(new DateTimeOffset(utc.Ticks - utc.Ticks % Length.Ticks, TimeSpan.Zero));
    }

    public SweepWindow Next => new(End);
    public SweepWindow Previous => new(Start - Length);

    public static bool TryParse(string? id, out SweepWindow window)
    {
        window = default;
        if (!DateTimeOffset.TryParseExact(id, "yyyyMMddHHmm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start)
            || start.Ticks % Length.Ticks != 0)
            return false;
        window = new(start);
        return true;
    }

    public override string ToString() => Id;
}
