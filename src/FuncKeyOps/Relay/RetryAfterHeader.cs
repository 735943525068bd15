using System.Globalization;

namespace FuncKeyOps.Relay;

/// <summary>
/// Retry-After in and out of the relay. A provider's value is only a hint about one of our keys: it is read safely
/// (seconds or an HTTP date against our clock; a negative, unparsable or absurd value is no hint) and never passed on
/// longer than the longest rest the relay itself would impose (<see cref="MemberCircuitOptions.MaxBreakDuration"/>),
/// so a client is never told to stay away a day for a member that is back in five minutes.
/// </summary>
internal static class RetryAfterHeader
{
    // Far past any rest we impose, small enough that adding it to a date or casting its seconds cannot overflow.
    private static readonly TimeSpan Absurd = TimeSpan.FromDays(365);

    /// <summary>The provider's Retry-After as a wait (a date in the past is zero), at most <paramref name="cap"/>; null when it has none that parses.</summary>
    public static TimeSpan? From(HttpResponseMessage? response, TimeProvider time, TimeSpan cap) =>
        From(response, time) is { } wait ? Cap(wait, cap) : null;

    /// <summary>The provider's Retry-After as a wait, uncapped (for deciding whether it is worth waiting out); null when it has none that parses.</summary>
    public static TimeSpan? From(HttpResponseMessage? response, TimeProvider time)
    {
        if (response is null || !response.Headers.TryGetValues("Retry-After", out var values))
            return null;
        // One value expected; more than one is a broken proxy: no hint rather than a guess.
        string? only = null;
        foreach (var value in values)
        {
            if (only is not null)
                return null;
            only = value;
        }
        return Parse(only, time.GetUtcNow());
    }

    /// <summary>
    /// RFC 9110 §10.2.3: delay-seconds (digits only) or an HTTP date. Negative, fractional, garbage: null. A date in
    /// the past: zero. Anything over a year is treated as a year (the caller's cap cuts it further).
    /// </summary>
    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        var text = value.AsSpan().Trim();
        if (text.IsEmpty)
            return null;
        if (char.IsAsciiDigit(text[0]))
        {
            foreach (var c in text)
            {
                if (!char.IsAsciiDigit(c))
                    return null;
            }
            // Digits only: a value past long's range is absurd, not an error.
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < (long)Absurd.TotalSeconds
                ? TimeSpan.FromSeconds(seconds)
                : Absurd;
        }
        if (!DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var date)
            && !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out date))
            return null;
        var wait = date - now;
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < Absurd ? wait : Absurd;
    }

    public static TimeSpan Cap(TimeSpan wait, TimeSpan cap) => wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;

    /// <summary>Whole seconds for our own Retry-After header: at least 1 (0 invites a retry storm), never overflowing.</summary>
    public static string Format(TimeSpan wait)
    {
        var seconds = wait <= TimeSpan.Zero ? 1 : wait >= Absurd ? (long)Absurd.TotalSeconds : (long)Math.Ceiling(wait.TotalSeconds);
        return Math.Max(1, seconds).ToString(CultureInfo.InvariantCulture);
    }
}
