using System.Globalization;
using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Findings;

/// <summary>A finding as stored, with the ETag a change of it must match.</summary>
internal sealed record StoredFinding(Finding Finding, ETag ETag);

internal enum StatusChange { Changed, Unchanged, NotFound, Conflict }

/// <summary>
/// The findings in the <c>anomalies</c> table (<see cref="FindingRows"/>): added once by id, changed by ETag, listed
/// newest first. The table also holds the sweep's checkpoint under its own partition (<c>sweep</c>); every read here
/// names day partitions (<c>yyyyMMdd</c>, digits only), so it never sees that row.
/// </summary>
internal sealed class FindingStore(TableStore tables)
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    internal const long MaxSpanMinutes = 32L * 24 * 60;

    // Findings are sparse (a few a day when all is well), so a page starts with a wide span and widens from there.
    private static readonly TimeSpan FirstSpan = TimeSpan.FromHours(6);

    /// <summary>Inserts the finding unless its id is stored; returns the stored one (unchanged when it was there) and whether this call added it.</summary>
    public async Task<(StoredFinding Stored, bool Added)> AddIfAbsentAsync(Finding finding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = FindingRows.ToEntity(finding);
        while (true)
        {
            if (await table.TryInsertAsync(entity, cancellationToken).ConfigureAwait(false))
                return (new StoredFinding(finding, entity.ETag), true);
            // Lost to an earlier sweep of the window (or another instance): theirs stands as it is.
            if (await GetAsync(finding.Id, cancellationToken).ConfigureAwait(false) is { } stored)
                return (stored, false);
            // Deleted in between (retention): insert again.
        }
    }

    /// <summary>The finding with this id, or null (also for an id <see cref="FindingId"/> cannot have made).</summary>
    public async Task<StoredFinding?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!FindingRows.TryPartitionOf(id, out var partition))
            return null;
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = await table.TryGetAsync<TableEntity>(partition, id, cancellationToken).ConfigureAwait(false);
        return entity is null ? null : new StoredFinding(FindingRows.ToFinding(entity), entity.ETag);
    }

    /// <summary>Writes <paramref name="changed"/> over the row if it still has <paramref name="read"/>'s ETag; null when another writer changed it first.</summary>
    public async Task<StoredFinding?> TryReplaceAsync(StoredFinding read, Finding changed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(changed);
        if (changed.Id != read.Finding.Id)
            throw new ArgumentException("A finding's id never changes.", nameof(changed));
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var entity = FindingRows.ToEntity(changed);
        entity.ETag = read.ETag;
        return await table.TryReplaceAsync(entity, cancellationToken).ConfigureAwait(false) ? new StoredFinding(changed, entity.ETag) : null;
    }

    /// <summary>
    /// Moves the finding to <paramref name="target"/> (acknowledged or resolved), naming who did it. Repeating a change
    /// is <see cref="StatusChange.Unchanged"/> (the first one's author stays); acknowledging a resolved finding is a
    /// <see cref="StatusChange.Conflict"/>: it would reopen what someone closed.
    /// </summary>
    public async Task<(StatusChange Outcome, Finding? Finding)> ChangeStatusAsync(string id, FindingStatus target, string changedBy, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await GetAsync(id, cancellationToken).ConfigureAwait(false) is not { } stored)
                return (StatusChange.NotFound, null);
            var current = stored.Finding.Status;
            if (current == target)
                return (StatusChange.Unchanged, stored.Finding);
            if (current > target)
                return (StatusChange.Conflict, stored.Finding);
            var changed = stored.Finding with { Status = target, ChangedBy = changedBy, ChangedAt = at };
            if (await TryReplaceAsync(stored, changed, cancellationToken).ConfigureAwait(false) is { } written)
                return (StatusChange.Changed, written.Finding);
            // The sweep recorded an action outcome in between: apply the change to the row as it is now.
        }
    }

    /// <summary>
    /// Findings of windows since <paramref name="since"/> whose action or alert is not done (planned, being taken,
    /// failed, or not yet alerted), oldest first. Observed findings are done: observe mode takes nothing.
    /// </summary>
    public async IAsyncEnumerable<StoredFinding> UnfinishedAsync(DateTimeOffset since, DateTimeOffset until,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var filter = DayRange(since, until) + " and " + TableClient.CreateQueryFilter(
            $"(ActionState eq {nameof(FindingActionState.Pending)} or ActionState eq {nameof(FindingActionState.Acting)} or ActionState eq {nameof(FindingActionState.Failed)} or (Alerted eq {false} and ActionState ne {nameof(FindingActionState.Observed)}))");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            yield return new StoredFinding(FindingRows.ToFinding(entity), entity.ETag);
    }

    /// <summary>
    /// Subject and window of every finding whose window starts in [<paramref name="from"/>, <paramref name="to"/>), of
    /// any status: what a baseline leaves out (a finding resolved as harmless still says the window was unusual).
    /// Only those two columns are read.
    /// </summary>
    public async IAsyncEnumerable<(string Subject, DateTimeOffset Window)> RaisedAsync(DateTimeOffset from, DateTimeOffset to,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var first = AlignUp(from);
        var end = AlignUp(to);
        if (first >= end)
            yield break;
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var filter = DayRange(first, end - SweepWindow.Length) + " and "
            + TableClient.CreateQueryFilter($"RowKey ge {Id(first)} and RowKey lt {Id(end)}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: [FindingRows.Subject, nameof(Finding.WindowStart)],
            cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (entity.GetString(FindingRows.Subject) is { } subject && entity.GetDateTimeOffset(nameof(Finding.WindowStart)) is { } window)
                yield return (subject, window);
        }
    }

    /// <summary>
    /// One page of the findings <paramref name="query"/> selects, newest window first (ids descending), at most
    /// <paramref name="limit"/>, and the token of the next page, null once the range is read to its start.
    /// </summary>
    /// <remarks>
    /// Table Storage returns rows in ascending key order only, so a page is read as spans of windows stepping back
    /// from the cursor, each span's rows going through a heap that keeps only the newest ones the page still needs:
    /// memory stays bounded by the page. An empty span doubles the next one, so a quiet month costs a few queries.
    /// </remarks>
    /// <exception cref="FormatException">The continuation is not a token of this query.</exception>
    public async Task<(IReadOnlyList<Finding> Findings, string? Next)> PageAsync(FindingQuery query, int limit, string? continuation,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, MaxPageSize);
        query = query with { From = query.From.ToUniversalTime(), To = query.To.ToUniversalTime() };
        var first = AlignUp(query.From);
        var span = FirstSpan;
        // The exclusive upper bound of the ids still to read: a window id, or the last id a page returned.
        string upper = Id(AlignUp(query.To));
        if (continuation is not null)
        {
            if (!FindingPageToken.TryDecode(continuation, out var token) || token.Query != query)
                throw new FormatException("continuation is not a token from an earlier page of this range and filter.");
            upper = token.Cursor;
            span = Windows(token.SpanMinutes);
        }

        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var page = new List<Finding>(Math.Min(limit, 256));
        while (page.Count < limit)
        {
            var upperWindow = WindowOf(upper);
            // A cursor's own window is read again for the ids below the cursor.
            var isCursor = upper.Length > FindingRows.WindowIdLength;
            var lastWindow = isCursor ? upperWindow : upperWindow - SweepWindow.Length;
            if (lastWindow < first)
                break;
            var lower = upperWindow - first > span ? upperWindow - span : first;
            var filter = TableClient.CreateQueryFilter(
                $"PartitionKey ge {FindingRows.PartitionOf(lower)} and PartitionKey le {FindingRows.PartitionOf(lastWindow)} and RowKey ge {Id(lower)} and RowKey lt {upper}")
                + Filters(query);
            var newest = new PriorityQueue<TableEntity, string>(StringComparer.Ordinal);
            var found = 0;
            await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                found++;
                newest.Enqueue(entity, entity.RowKey);
                if (newest.Count > limit - page.Count)
                    newest.Dequeue(); // the oldest held
            }
            var rows = new List<Finding>(newest.Count);
            while (newest.TryDequeue(out var entity, out _))
                rows.Add(FindingRows.ToFinding(entity));
            rows.Reverse();
            page.AddRange(rows);
            if (page.Count >= limit)
            {
                // The next page starts with the span that, at this span's density, holds about one page.
                span = Windows((upperWindow - lower).TotalMinutes * rows.Count / Math.Max(found, 1));
                break;
            }
            if (lower <= first)
                return (page, null);
            upper = Id(lower);
            span = Windows(span.TotalMinutes * 2);
        }
        if (page.Count < limit)
            return (page, null);
        return (page, FindingPageToken.For(query, page[^1].Id, span).Encode());
    }

    private static string Filters(FindingQuery query)
    {
        var filter = "";
        if (query.Status is { } status)
            filter += " and " + TableClient.CreateQueryFilter($"Status eq {status.ToString()}");
        if (query.Detector is { } detector)
            filter += " and " + TableClient.CreateQueryFilter($"Detector eq {detector}");
        if (query.Subject is { } subject)
            filter += " and " + TableClient.CreateQueryFilter($"Subject eq {subject}");
        return filter;
    }

    // Day partitions only: digits, so the sweep's "sweep" partition (a letter sorts after every digit) is never read.
    private static string DayRange(DateTimeOffset since, DateTimeOffset until) =>
        TableClient.CreateQueryFilter($"PartitionKey ge {FindingRows.PartitionOf(since)} and PartitionKey le {FindingRows.PartitionOf(until)}");

    /// <summary>A span of whole windows (so each span starts on a window), from one window to <see cref="MaxSpanMinutes"/>.</summary>
    internal static TimeSpan Windows(double minutes)
    {
        var length = SweepWindow.Length.TotalMinutes;
        return TimeSpan.FromMinutes(Math.Clamp(Math.Ceiling(minutes / length) * length, length, MaxSpanMinutes));
    }

    /// <summary>The first window starting at or after <paramref name="time"/>.</summary>
    private static DateTimeOffset AlignUp(DateTimeOffset time)
    {
        var window = SweepWindow.Containing(time);
        // The last window of the calendar has no next one: a "to" in it reads to its start.
        return window.Start < time && window.Start < DateTimeOffset.MaxValue - SweepWindow.Length ? window.Next.Start : window.Start;
    }

    private static string Id(DateTimeOffset windowStart) =>
        windowStart.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);

    private static DateTimeOffset WindowOf(string idOrWindow) =>
        SweepWindow.TryParse(idOrWindow[..FindingRows.WindowIdLength], out var window) ? window.Start : throw new FormatException("Not a finding id.");

    private Task<TableClient> TableAsync(CancellationToken cancellationToken) => tables.GetTableAsync(TableNames.Anomalies, cancellationToken);
}
