using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Retention;

/// <summary>
/// The monthly audit tables (<see cref="TableNames.Audit"/>) of this deployment's prefix, and which of them are past
/// retention: a month goes only once all of it is older than the cut-off, so no row younger than
/// <c>Audit:RetentionDays</c> is ever dropped with its table.
/// </summary>
internal static class AuditTableRetention
{
    /// <summary>The logical names (<c>audityyyyMM</c>) of this prefix's audit tables whose whole month ended at or before <paramref name="cutoff"/>, oldest first.</summary>
    public static async Task<List<(string Logical, DateTimeOffset MonthEnd)>> ExpiredAsync(TableStore tables, DateTimeOffset cutoff,
        CancellationToken cancellationToken)
    {
        var first = tables.PhysicalName(TableNames.AuditPrefix);
        // Every table named prefix + "audit" + more sorts from there to the same followed by '~' (after every letter and digit).
        var filter = TableClient.CreateQueryFilter($"TableName ge {first} and TableName lt {first + "~"}");
        var expired = new List<(string, DateTimeOffset)>();
        await foreach (var table in tables.Service.QueryAsync(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            // Exactly prefix + "audityyyyMM": another prefix that starts with this one (pfx2audit...) is not ours.
            if (TryMonth(table.Name, first, out var month) && month.AddMonths(1) <= cutoff)
                expired.Add((TableNames.AuditPrefix + table.Name[first.Length..], month.AddMonths(1)));
        }
        expired.Sort((a, b) => a.Item2.CompareTo(b.Item2));
        return expired;
    }

    /// <summary>Drops the table; false when it was already gone (another instance, an earlier run that crashed after it).</summary>
    public static async Task<bool> DropAsync(TableStore tables, string logical, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await tables.Service.DeleteTableAsync(tables.PhysicalName(logical), cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409)
        {
            // 409: another instance's delete of it is under way.
            return false;
        }
    }

    private static bool TryMonth(string name, string first, out DateTimeOffset month)
    {
        month = default;
        return name.Length == first.Length + 6 && name.StartsWith(first, StringComparison.Ordinal)
            && DateTimeOffset.TryParseExact(name[first.Length..], "yyyyMM", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out month);
    }
}
