using System.Text.Json;
using Azure.Data.Tables;

namespace FuncKeyOps.Alerts;

/// <summary>One alert in the <c>alerts</c> table: what was published, whether it was delivered, who is delivering it.</summary>
internal static class AlertRow
{
    // Low volume (a few per rotation): one partition keeps the dedupe check a point read.
    public const string Partition = "alert";
    public const string Sent = "Sent";
    public const string ClaimedUntil = "ClaimedUntil";

    public static TableEntity New(Alert alert, DateTimeOffset claimedUntil) => new(Partition, RowKeyOf(alert.DedupeKey))
    {
        ["DedupeKey"] = alert.DedupeKey,
        ["Kind"] = alert.Kind,
        ["Subject"] = alert.Subject,
        ["Message"] = alert.Message,
        ["Time"] = alert.Time,
        ["Details"] = alert.Details is null ? null : JsonSerializer.Serialize(alert.Details),
        [Sent] = false,
        [ClaimedUntil] = claimedUntil,
    };

    /// <summary>
    /// The dedupe key as a RowKey: Table Storage refuses <c>/ \ # ?</c> and control characters in keys, which a
    /// dedupe key may hold, so those (and <c>%</c>, to stay unambiguous) are percent-escaped.
    /// </summary>
    public static string RowKeyOf(string dedupeKey)
    {
        var builder = new System.Text.StringBuilder(dedupeKey.Length);
        foreach (var c in dedupeKey)
        {
            if (c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c))
                builder.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else
                builder.Append(c);
        }
        return builder.ToString();
    }
}
