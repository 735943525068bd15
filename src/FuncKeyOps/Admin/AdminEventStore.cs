using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Admin;

/// <summary>
/// The <c>adminevents</c> table. Keys count down from the end of time (day partitions, then ticks), so the
/// service's own ascending order is newest first and its continuation pages across days with nothing held in
/// memory. One table rather than monthly ones: admin events are few (changes and failed logins, not reads), and a
/// single table keeps one continuation valid across a month boundary.
/// </summary>
public sealed class AdminEventStore(TableStore tables)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public async Task AppendAsync(AdminEvent adminEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(adminEvent);
        var table = await tables.GetTableAsync(TableNames.AdminEvents, cancellationToken).ConfigureAwait(false);
        await table.AddEntityAsync(ToEntity(adminEvent), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The row counting failed authentications from <paramref name="source"/> in <paramref name="minute"/> (see <see cref="FailedAuthTally"/>).</summary>
    internal static AdminEvent Tally(DateTimeOffset minute, string source, string route) => new()
    {
        Id = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(minute.UtcTicks.ToString(CultureInfo.InvariantCulture) + "|" + source)))[..32],
        Time = minute,
        SourceIp = source,
        Method = "*",
        Route = route,
        Status = Microsoft.AspNetCore.Http.StatusCodes.Status401Unauthorized,
        ErrorCode = Errors.FuncKeyOpsErrors.Unauthorized.Code,
        Count = 0,
    };

    /// <summary>Adds <paramref name="count"/> to a tally's row, creating it; ETag-guarded, so instances counting the same source add up.</summary>
    internal async Task AddToTallyAsync(AdminEvent tally, long count, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.AdminEvents, cancellationToken).ConfigureAwait(false);
        var (partition, row) = (Partition(tally.Time), Row(tally));
        while (true)
        {
            if (await table.TryGetAsync<TableEntity>(partition, row, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                stored[nameof(AdminEvent.Count)] = (stored.GetInt64(nameof(AdminEvent.Count)) ?? 0) + count;
                if (await table.TryReplaceAsync(stored, cancellationToken).ConfigureAwait(false))
                    return;
            }
            else if (await table.TryInsertAsync(ToEntity(tally with { Count = count }), cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Events with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/>, newest first, at most
    /// <paramref name="limit"/>, and the token of the next page (null after the last).
    /// </summary>
    /// <exception cref="FormatException">The continuation is not a token of an earlier page.</exception>
    public async Task<(IReadOnlyList<AdminEvent> Events, string? Next)> PageAsync(
        DateTimeOffset from, DateTimeOffset to, int limit, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        string? position = null;
        if (continuation is not null && !TablePageToken.TryDecode(continuation, out position))
            throw new FormatException("continuation is not a token from an earlier page of this list.");
        var events = new List<AdminEvent>();
        if (from >= to)
            return (events, null);

        var table = await tables.GetTableAsync(TableNames.AdminEvents, cancellationToken).ConfigureAwait(false);
        // Newest day first: the last day of the window has the smallest partition key.
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey ge {Partition(to.AddTicks(-1))} and PartitionKey le {Partition(from)} and Time ge {from.ToUniversalTime()} and Time lt {to.ToUniversalTime()}");
        try
        {
            // The service may end a page early (at a partition, or empty); keep asking until the page is full.
            do
            {
                var pages = table.QueryAsync<TableEntity>(filter, limit - events.Count, cancellationToken: cancellationToken)
                    .AsPages(position, limit - events.Count);
                position = null;
                await foreach (var page in pages.ConfigureAwait(false))
                {
                    events.AddRange(page.Values.Select(ToEvent));
                    position = page.ContinuationToken;
                    break;
                }
            }
            while (position is not null && events.Count < limit);
        }
        catch (RequestFailedException e) when (e.Status == 400 && continuation is not null)
        {
            throw new FormatException("continuation is not a position this list knows.", e); // well-shaped, but forged
        }
        return (events, position is null ? null : TablePageToken.Encode(position));
    }

    // 99999999 - yyyyMMdd and MaxTicks - ticks: both fall as time goes on, and stay readable as a day and an instant.
    internal static string Partition(DateTimeOffset time) =>
        (99_999_999 - int.Parse(time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture))
            .ToString("D8", CultureInfo.InvariantCulture);

    private static string Row(AdminEvent e) =>
        (DateTime.MaxValue.Ticks - e.Time.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + e.Id;

    private static TableEntity ToEntity(AdminEvent e)
    {
        var entity = new TableEntity(Partition(e.Time), Row(e))
        {
            [nameof(AdminEvent.Time)] = e.Time.ToUniversalTime(),
            [nameof(AdminEvent.Method)] = e.Method,
            [nameof(AdminEvent.Route)] = e.Route,
            [nameof(AdminEvent.Status)] = e.Status,
        };
        SetIfPresent(entity, nameof(AdminEvent.Actor), e.Actor);
        SetIfPresent(entity, nameof(AdminEvent.SourceIp), e.SourceIp);
        SetIfPresent(entity, nameof(AdminEvent.Target), e.Target);
        SetIfPresent(entity, nameof(AdminEvent.ErrorCode), e.ErrorCode);
        if (e.Count is { } count)
            entity[nameof(AdminEvent.Count)] = count;
        return entity;
    }

    private static AdminEvent ToEvent(TableEntity entity) => new()
    {
        Id = entity.RowKey[(entity.RowKey.IndexOf('-', StringComparison.Ordinal) + 1)..],
        Time = entity.GetDateTimeOffset(nameof(AdminEvent.Time)) ?? default,
        Actor = entity.GetString(nameof(AdminEvent.Actor)),
        SourceIp = entity.GetString(nameof(AdminEvent.SourceIp)),
        Method = entity.GetString(nameof(AdminEvent.Method)) ?? "",
        Route = entity.GetString(nameof(AdminEvent.Route)) ?? "",
        Target = entity.GetString(nameof(AdminEvent.Target)),
        Status = entity.GetInt32(nameof(AdminEvent.Status)) ?? 0,
        ErrorCode = entity.GetString(nameof(AdminEvent.ErrorCode)),
        Count = entity.GetInt64(nameof(AdminEvent.Count)),
    };

    private static void SetIfPresent(TableEntity entity, string name, string? value)
    {
        if (value is not null)
            entity[name] = value;
    }
}
