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
            await foreach (var entity in ReadAsync(tables, month, filter, select: null, cancellationToken).ConfigureAwait(false))
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

    /// <summary>
    /// Every row of one provider key version in the window, only the <paramref name="select"/> columns, filtered by the
    /// table service: rows of other keys (a flood of unauthenticated calls among them) are never read, so they cannot
    /// crowd these out of a limit, and the caller streams them without holding them.
    /// </summary>
    internal async IAsyncEnumerable<TableEntity> ProviderKeyVersionRowsAsync(
        DateTimeOffset from,
        DateTimeOffset to,
        string providerKeyName,
        string version,
        IEnumerable<string> select,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (from >= to)
            yield break;
        // Column names are written into the filter, not passed as arguments: those become quoted values.
        var filter = Filter(from, to, null) + " and " + TableClient.CreateQueryFilter(
            $"ProviderKeyName eq {providerKeyName} and ProviderKeyVersion eq {version}");
        foreach (var month in Months(from, to))
        {
            await foreach (var entity in ReadAsync(tables, month, filter, select, cancellationToken).ConfigureAwait(false))
                yield return entity;
        }
    }

    /// <summary>Rows per page of <see cref="PageAsync"/> when the caller does not say, and at most.</summary>
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    internal const long MaxSpanSeconds = 32L * 24 * 3600;
    private static readonly TimeSpan FirstSpan = TimeSpan.FromMinutes(1);

    /// <summary>
    /// One page of the rows with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/>, newest first (time,
    /// then row key, both descending), at most <paramref name="limit"/>, and the token of the next page, null once
    /// the window is read to its start. <paramref name="continuation"/> is a token from the previous page of the
    /// same window and filter.
    /// </summary>
    /// <remarks>
    /// Table Storage returns rows oldest first, so a page is read as windows stepping back in time from the cursor:
    /// each window's rows go through a heap that keeps only the newest <paramref name="limit"/>, so memory stays
    /// bounded by the page however many rows a window holds. An empty window doubles the next one, so a sparse or
    /// empty month costs a few queries, not one per minute; the token carries the span that found the page's rows.
    /// </remarks>
    /// <exception cref="FormatException">The continuation is not a token of this window and filter.</exception>
    public async Task<(IReadOnlyList<AuditRecord> Rows, string? Next)> PageAsync(
        DateTimeOffset from,
        DateTimeOffset to,
        string? relayKeyId,
        int limit,
        string? continuation,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        if (from > to)
            throw new ArgumentException("from is after to.", nameof(from));

        (DateTimeOffset Time, string RowKey)? cursor = null;
        var span = FirstSpan;
        if (continuation is not null)
        {
            if (!AuditPageToken.TryDecode(continuation, out var token) || token.From != from || token.To != to || token.RelayKeyId != relayKeyId)
                throw new FormatException("continuation is not a token from an earlier page of this window and filter.");
            cursor = (token.Cursor, token.CursorRowKey);
            span = TimeSpan.FromSeconds(token.SpanSeconds);
        }

        var page = new List<TableEntity>(Math.Min(limit, 256));
        var upper = cursor?.Time ?? to;
        while (page.Count < limit && upper > from)
        {
            var lower = upper - from > span ? upper - span : from;
            var newest = new PriorityQueue<TableEntity, (DateTimeOffset, string)>(Oldest);
            var found = 0;
            // The cursor's own instant is read again (other rows may share it) and what is not older is skipped.
            var includeUpper = cursor is not null && upper == cursor.Value.Time;
            foreach (var month in Months(lower, includeUpper ? upper.AddTicks(1) : upper))
            {
                await foreach (var entity in ReadAsync(tables, month, WindowFilter(lower, upper, includeUpper, relayKeyId), select: null, cancellationToken).ConfigureAwait(false))
                {
                    var key = OrderKey(entity);
                    if (cursor is { } c && Oldest.Compare(key, c) >= 0)
                        continue;
                    found++;
                    newest.Enqueue(entity, key);
                    if (newest.Count > limit - page.Count)
                        newest.Dequeue();
                }
            }
            var rows = new List<TableEntity>(newest.Count);
            while (newest.TryDequeue(out var entity, out _))
                rows.Add(entity);
            rows.Reverse();
            page.AddRange(rows);
            if (page.Count >= limit)
            {
                // The next page starts with the span that, at this window's density, holds about one page.
                var taken = rows.Count;
                span = TimeSpan.FromSeconds(Math.Clamp((upper - lower).TotalSeconds * taken / Math.Max(found, 1), 1, MaxSpanSeconds));
                break;
            }
            upper = lower;
            cursor = null;
            span = TimeSpan.FromSeconds(Math.Min(span.TotalSeconds * 2, MaxSpanSeconds));
        }

        var records = page.Select(AuditEntity.ToRecord).ToList();
        if (page.Count < limit)
            return (records, null);
        var last = OrderKey(page[^1]);
        var next = new AuditPageToken
        {
            FromTicks = from.UtcTicks,
            ToTicks = to.UtcTicks,
            RelayKeyId = relayKeyId,
            CursorTicks = last.Time.UtcTicks,
            CursorRowKey = last.RowKey,
            SpanSeconds = (long)Math.Ceiling(span.TotalSeconds),
        };
        return (records, next.Encode());
    }

    // Ascending (time, row key): the heap's top is the oldest row held, the one to let go first.
    private static readonly Comparer<(DateTimeOffset Time, string RowKey)> Oldest = Comparer<(DateTimeOffset Time, string RowKey)>.Create(
        static (a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : string.CompareOrdinal(a.RowKey, b.RowKey));

    private static (DateTimeOffset Time, string RowKey) OrderKey(TableEntity entity) =>
        (entity.GetDateTimeOffset(nameof(AuditRecord.Time)) ?? default, entity.RowKey);

    private static string WindowFilter(DateTimeOffset lower, DateTimeOffset upper, bool includeUpper, string? relayKeyId)
    {
        // Every shard of a second sorts between "yyyyMMddHHmm-ss" and that followed by '~' (after every digit).
        var first = Second(lower);
        var last = Second(upper) + "~";
        var filter = includeUpper
            ? TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {last} and Time ge {lower} and Time le {upper}")
            : TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {last} and Time ge {lower} and Time lt {upper}");
        return relayKeyId is null ? filter : filter + " and " + TableClient.CreateQueryFilter($"RelayKeyId eq {relayKeyId}");
    }

    private static string Second(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMddHHmm'-'ss", CultureInfo.InvariantCulture);

    private const int MinuteLength = 12; // yyyyMMddHHmm

    internal static string Filter(DateTimeOffset from, DateTimeOffset to, string? relayKeyId)
    {
        // Partition keys are "yyyyMMddHHmm-{shard}": every shard of a minute sorts between "M-" and "M." ('.' follows '-').
        // A window ending on a minute (every sweep window) holds none of that minute's rows: the service need not scan them.
        var first = Minute(from) + "-";
        var last = Minute(to) + (to.UtcTicks % TimeSpan.TicksPerMinute == 0 ? "-" : ".");
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey ge {first} and PartitionKey lt {last} and Time ge {from.ToUniversalTime()} and Time lt {to.ToUniversalTime()}");
        return relayKeyId is null ? filter : filter + " and " + TableClient.CreateQueryFilter($"RelayKeyId eq {relayKeyId}");
    }

    /// <summary>The month's rows matching <paramref name="filter"/> (only the <paramref name="select"/> columns when given), page by page; none when the month's table does not exist.</summary>
    internal static async IAsyncEnumerable<TableEntity> ReadAsync(
        TableStore tables,
        string logicalName,
        string filter,
        IEnumerable<string>? select,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Not TableStore.GetTableAsync: a read must not create next year's tables.
        var table = tables.Service.GetTableClient(tables.PhysicalName(logicalName));
        await using var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select, cancellationToken)
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

    internal static IEnumerable<string> Months(DateTimeOffset from, DateTimeOffset to)
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
