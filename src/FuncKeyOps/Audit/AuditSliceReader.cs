using System.Globalization;
using System.Threading.Channels;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Audit;

/// <summary>
/// Every audit row of a time range, read as slices of whole seconds (the partition layout's own unit, so a slice is
/// one partition-key range) a few at once, merged into one stream for one reader. Each row is in exactly one slice.
/// </summary>
/// <remarks>
/// Why slices rather than one range query: a query is paged by continuation, and Azurite (the emulator the tests,
/// <c>./build.sh dev</c> and <c>bench/sweep</c> run on) answers every page by evaluating the whole filter on every row
/// of the table (its index is not used for a filter) and sorting every remaining match. One query over a 5-minute
/// window of 300,000 rows parsed both time bounds of every row 300 times over: about 270 s. A slice of about one page
/// fails most rows on its first string comparison and sorts a page, and a whole-second slice needs no time bounds at
/// all, since a row's partition is its time's second. On Azure Table Storage the same slices are plain partition-range
/// queries served in parallel.
/// <para>
/// Slices start at a second and grow with how few rows they held, so a quiet window costs a few requests and a busy
/// one about a page per request. Memory is bounded by the pages in flight (<see cref="Parallelism"/> being read plus
/// as many waiting for the reader), never by the rows.
/// </para>
/// </remarks>
internal static class AuditSliceReader
{
    /// <summary>Slices read at once: enough to keep the service busy while the reader counts a page.</summary>
    public const int Parallelism = 4;

    /// <summary>Rows a slice aims at: one page.</summary>
    private const int TargetRows = 1000;

    // A slice that held few rows lets the next grow by at most this much: a burst after a quiet stretch costs a few pages.
    private const int MaxGrowth = 16;

    private static readonly TimeSpan FirstSlice = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Rows with <paramref name="from"/> &lt;= time &lt; <paramref name="to"/> (and matching <paramref name="where"/>
    /// when given: a filter on other columns, applied by the service), only the <paramref name="select"/> columns, in
    /// no particular order; none for a month whose table does not exist.
    /// </summary>
    public static async IAsyncEnumerable<TableEntity> ReadAsync(
        TableStore tables,
        DateTimeOffset from,
        DateTimeOffset to,
        IReadOnlyList<string> select,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken,
        string? where = null)
    {
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        if (from >= to)
            yield break;

        var pages = Channel.CreateBounded<IReadOnlyList<TableEntity>>(new BoundedChannelOptions(Parallelism)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var plan = new SlicePlan(from, to);
        var producer = ProduceAsync(tables, plan, where, select, pages.Writer, stop.Token);
        var finished = false;
        try
        {
            await foreach (var page in pages.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                foreach (var entity in page)
                    yield return entity;
            }
            await producer.ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // The reader stopped early, or failed (a slice's failure reached it through the channel): the slices
                // still being read are abandoned, and what they throw as they stop is not news.
                await stop.CancelAsync().ConfigureAwait(false);
                try
                {
                    await producer.ConfigureAwait(false);
                }
                catch (Exception)
                {
                }
            }
        }
    }

    private static async Task ProduceAsync(
        TableStore tables,
        SlicePlan plan,
        string? where,
        IReadOnlyList<string> select,
        ChannelWriter<IReadOnlyList<TableEntity>> writer,
        CancellationToken cancellationToken)
    {
        try
        {
            var workers = Enumerable.Range(0, Parallelism).Select(_ => Task.Run(async () =>
            {
                while (plan.TryTake(out var slice))
                {
                    var rows = 0;
                    await foreach (var page in PagesAsync(tables, slice.From, slice.To, where, select, cancellationToken).ConfigureAwait(false))
                    {
                        rows += page.Count;
                        if (page.Count > 0)
                            await writer.WriteAsync(page, cancellationToken).ConfigureAwait(false);
                    }
                    plan.Observed(slice, rows);
                }
            }, cancellationToken));
            await Task.WhenAll(workers).ConfigureAwait(false);
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
            throw;
        }
    }

    private static async IAsyncEnumerable<IReadOnlyList<TableEntity>> PagesAsync(
        TableStore tables,
        DateTimeOffset from,
        DateTimeOffset to,
        string? where,
        IReadOnlyList<string> select,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = where is null ? Filter(from, to) : Filter(from, to) + " and (" + where + ")";
        // Not TableStore.GetTableAsync: a read must not create tables.
        var table = tables.Service.GetTableClient(tables.PhysicalName(TableNames.Audit(from)));
        await using var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: TargetRows, select, cancellationToken)
            .AsPages()
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
            yield return pages.Current.Values;
        }
    }

    /// <summary>
    /// The partition-key range of the slice's seconds; time bounds only where the slice cuts a second (a row's
    /// partition is <c>yyyyMMddHHmm-ss</c> and its shard, so whole seconds need none).
    /// </summary>
    internal static string Filter(DateTimeOffset from, DateTimeOffset to)
    {
        var first = Second(from);
        var cutsLast = to.UtcTicks % TimeSpan.TicksPerSecond != 0;
        // Every shard of a second sorts after the second itself and before the next one.
        var last = cutsLast ? Second(to) + "~" : Second(to);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey lt {last}");
        if (from.UtcTicks % TimeSpan.TicksPerSecond != 0)
            filter += " and " + TableClient.CreateQueryFilter($"Time ge {from}");
        if (cutsLast)
            filter += " and " + TableClient.CreateQueryFilter($"Time lt {to}");
        return filter;
    }

    private static string Second(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMddHHmm'-'ss", CultureInfo.InvariantCulture);

    private readonly record struct Slice(DateTimeOffset From, DateTimeOffset To);

    /// <summary>
    /// Hands out consecutive slices covering [from, to) once each, never across the turn of a second's boundary
    /// inside (bar the range's own ends) nor of a month (monthly tables), sized by how many rows the last ones held.
    /// </summary>
    private sealed class SlicePlan(DateTimeOffset from, DateTimeOffset to)
    {
        private readonly Lock _gate = new();
        private DateTimeOffset _next = from;
        private TimeSpan _length = FirstSlice;

        public bool TryTake(out Slice slice)
        {
            lock (_gate)
            {
                slice = default;
                if (_next >= to)
                    return false;
                var start = _next;
                var end = new DateTimeOffset(start.UtcTicks - start.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero) + _length;
                var month = new DateTimeOffset(start.Year, start.Month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
                if (end > month)
                    end = month;
                if (end > to)
                    end = to;
                slice = new Slice(start, end);
                _next = end;
                return true;
            }
        }

        public void Observed(Slice slice, int rows)
        {
            lock (_gate)
            {
                var seconds = Math.Max(1, (slice.To - slice.From).TotalSeconds);
                var fitting = rows == 0 ? seconds * MaxGrowth : seconds * TargetRows / rows;
                _length = TimeSpan.FromSeconds(Math.Max(1, Math.Floor(Math.Min(fitting, seconds * MaxGrowth))));
            }
        }
    }
}
