using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FuncKeyOps.Anomalies;

/// <summary>
/// A finding's id from what it is (detector, subject, window) and nothing else, so a window swept again, by this
/// instance or another, yields the same id and the store adds nothing.
/// </summary>
public static class FindingId
{
    /// <summary><c>{windowId}-{detector}-{16 hex of SHA-256(subject)}</c>: sorts by window, safe as a RowKey whatever the subject holds.</summary>
    public static string For(string detector, string subject, SweepWindow window) => For(detector, subject, window.Start);

    public static string For(string detector, string subject, DateTimeOffset windowStart)
    {
        ArgumentException.ThrowIfNullOrEmpty(detector);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(subject)).AsSpan(0, 8));
        return string.Create(CultureInfo.InvariantCulture, $"{windowStart.UtcDateTime:yyyyMMddHHmm}-{detector}-{hash}");
    }
}
