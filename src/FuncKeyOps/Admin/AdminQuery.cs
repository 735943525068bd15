using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FuncKeyOps.Admin;

/// <summary>Query parameters the admin API's list calls share.</summary>
public static class AdminQuery
{
    /// <summary>
    /// <c>limit</c>: absent means <paramref name="fallback"/>; otherwise one whole number from 1 to
    /// <paramref name="max"/> (no sign, no spaces, no culture-dependent digits).
    /// </summary>
    public static bool TryLimit(StringValues values, int fallback, int max, out int limit)
    {
        limit = fallback;
        if (values.Count == 0)
            return true;
        return values.Count == 1
            && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
            && limit >= 1 && limit <= max;
    }

    /// <summary>An optional text parameter: absent means null; otherwise given once and not empty.</summary>
    public static bool TryOptional(StringValues values, out string? value)
    {
        value = values.Count == 1 ? values[0] : null;
        return values.Count == 0 || !string.IsNullOrEmpty(value);
    }

    /// <summary>
    /// A time (<c>from</c>, <c>to</c>): absent means <paramref name="fallback"/>; otherwise given once, ISO-8601 only
    /// (no culture-dependent formats), UTC when no offset is given.
    /// </summary>
    public static bool TryTime(StringValues values, DateTimeOffset fallback, out DateTimeOffset time)
    {
        time = fallback;
        if (values.Count == 0)
            return true;
        return values.Count == 1
            && DateTimeOffset.TryParseExact(values[0], IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    /// <summary>
    /// A window <c>from</c> &lt;= time &lt; <c>to</c> from the query: <c>to</c> defaults to <paramref name="defaultTo"/>,
    /// <c>from</c> to <paramref name="defaultFrom"/> of the <c>to</c> chosen; from must not be after to, nor the
    /// window longer than <paramref name="maxRange"/>. <paramref name="error"/> is the 400's message otherwise.
    /// </summary>
    public static bool TryWindow(IQueryCollection query, DateTimeOffset defaultTo, Func<DateTimeOffset, DateTimeOffset> defaultFrom, TimeSpan maxRange,
        out DateTimeOffset from, out DateTimeOffset to, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(defaultFrom);
        from = default;
        error = !TryTime(query["to"], defaultTo, out to) || !TryTime(query["from"], defaultFrom(to), out from)
            ? $"from and to must be {TimeFormatHint}."
            : from > to
                ? "from must not be after to."
                : to - from > maxRange
                    ? $"The range may span at most {maxRange.TotalDays:0.##} days."
                    : null;
        return error is null;
    }

    public const string TimeFormatHint = "ISO-8601 times, such as 2026-11-23T09:00:00Z";

    private static readonly string[] IsoFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd"];
}
