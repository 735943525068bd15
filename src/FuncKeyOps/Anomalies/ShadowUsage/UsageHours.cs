using System.Globalization;
using System.Text.Json;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>Whole UTC hours, the unit the providers' usage reports and the shadow-usage judgement share.</summary>
internal static class UsageHours
{
    public static readonly TimeSpan Length = TimeSpan.FromHours(1);

    /// <summary>The start of the UTC hour holding <paramref name="time"/>.</summary>
    public static DateTimeOffset Floor(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - ticks % Length.Ticks, TimeSpan.Zero);
    }

    /// <summary>Every hour start in [<paramref name="from"/>, <paramref name="to"/>), both whole hours.</summary>
    public static IEnumerable<DateTimeOffset> Between(DateTimeOffset from, DateTimeOffset to)
    {
        for (var hour = from; hour < to; hour += Length)
            yield return hour;
    }

    /// <summary>How the reports and the findings write an hour: <c>yyyy-MM-ddTHH:mm:ssZ</c>.</summary>
    public static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>A JSON number property as a count; 0 when missing or not a number (a report leaves out what it did not count).</summary>
    public static long Count(this JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count)
            ? count
            : 0;
}
