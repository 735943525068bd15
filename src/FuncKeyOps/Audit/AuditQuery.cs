using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Audit;

/// <summary>Reads audit rows of a time window: only the monthly tables it overlaps, only its minute partitions.</summary>
public sealed class AuditQuery(TableStore tables)
{
    public const int DefaultLimit = 1000;
    public const int MaxLimit = 10_000;

    /// <summary>
    /// Rows with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/>, earliest first, at most
    /// <paramref name="limit"/> (the earliest ones when there are more).
    /// </summary>
    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(
        DateTimeOffset from,
        DateTimeOffset to,
        string? relayKeyId = null,
        int limit = DefaultLimit,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxLimit);
        if (from > to)
            throw new ArgumentException("from is after to.", nameof(from));
        var rows = new List<AuditRecord>();
        if (from == to)
            return rows;

        var filter = Filter(from, to, relayKeyId);
        // Results come in PartitionKey order, which is minute order: once the limit is reached, finishing the
        // current minute is enough to know the earliest rows are all in hand.
        string? lastMinute = null;
        foreach (var month in Months(from, to))
        {
            await foreach (var entity in ReadAsync(month, filter, cancellationToken).ConfigureAwait(false))
            {
                var minute = entity.PartitionKey[..MinuteLength];
                if (lastMinute is not null && string.CompareOrdinal(minute, lastMinute) > 0)
                    return Earliest(rows, limit);
                rows.Add(AuditEntity.ToRecord(entity));
                if (rows.Count >= limit)
                    lastMinute ??= minute;
            }
        }
        return Earliest(rows, limit);
    }

    private const int MinuteLength = 12; // yyyyMMddHHmm

    private static string Filter(DateTimeOffset from, DateTimeOffset to, string? relayKeyId)
    {
        // Partition keys are "yyyyMMddHHmm-{shard}": every shard of a minute sorts between "M-" and "M." ('.' follows '-').
        var first = Minute(from) + "-";
        var last = Minute(to) + ".";
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey ge {first} and PartitionKey lt {last} and Time ge {from.ToUniversalTime()} and Time lt {to.ToUniversalTime()}");
        return relayKeyId is null ? filter : filter + " and " + TableClient.CreateQueryFilter($"RelayKeyId eq {relayKeyId}");
    }

    private async IAsyncEnumerable<TableEntity> ReadAsync(
        string logicalName,
        string filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Not TableStore.GetTableAsync: a read must not create next year's tables.
        var table = tables.Service.GetTableClient(tables.PhysicalName(logicalName));
        await using var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken)
            .GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await pages.MoveNextAsync().ConfigureAwait(false))
                    yield break;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                yield break; // no row was ever written that month
            }
            yield return pages.Current;
        }
    }

    private static IEnumerable<string> Months(DateTimeOffset from, DateTimeOffset to)
    {
        var month = new DateTimeOffset(from.UtcDateTime.Year, from.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var end = to.ToUniversalTime().AddTicks(-1); // to is exclusive
        for (; month <= end; month = month.AddMonths(1))
            yield return TableNames.Audit(month);
    }

    private static string Minute(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    private static List<AuditRecord> Earliest(List<AuditRecord> rows, int limit)
    {
        rows.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : string.CompareOrdinal(a.RequestId, b.RequestId));
        if (rows.Count > limit)
            rows.RemoveRange(limit, rows.Count - limit);
        return rows;
    }
}
