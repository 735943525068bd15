using System.Diagnostics;
using System.Globalization;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Bench.SweepBench;

/// <summary>
/// <c>bench/sweep/run.sh usage</c>: <c>GET usage</c> over 31 days with a month of the sweep bench's traffic seeded, timed
/// for every grouping and checked against the seeded counts.
/// </summary>
/// <remarks>
/// "Now" is yesterday 00:05 plus the edge (the settle delay by default): the sweep has rolled up every window closed
/// before it. What is seeded, all of the same traffic (every window's counts are the same):
/// <list type="bullet">
/// <item>the month: the whole windows and hours of the first, cut day and 30 whole days, written with
/// <see cref="RollupStore.WritePeriodAsync"/> as compaction writes them (cells and marker; 8,928 windows of 2,000 relay
/// keys could not be written window by window on Azurite), each period's cells being one window's times its windows;</item>
/// <item>the open hour: the raw audit rows of its first window and of the edge after it; that window is swept as the
/// sweep does it (<see cref="AuditPass"/> into a <see cref="WindowTally"/>, <see cref="RollupStore.WriteWindowAsync"/>,
/// <see cref="RollupStore.CompactAsync"/>) and the edge is left raw.</item>
/// </list>
/// The report must count exactly the seeded calls and tokens, per relay key too.
/// </remarks>
internal static class UsageBench
{
    public static async Task<int> RunAsync(TableStore tables, int keys, int sources, int perSecond, int edgeSeconds, int repeats)
    {
        var yesterday = DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(-1);
        var open = SweepWindow.Containing(new DateTimeOffset(yesterday, TimeSpan.Zero));
        var now = open.End.AddSeconds(edgeSeconds);
        var from = now - UsageQuery.MaxRange;
        var windowRows = (long)perSecond * (long)SweepWindow.Length.TotalSeconds;
        var edgeRows = (long)perSecond * edgeSeconds;
        var store = new RollupStore(tables);

        // One window's cells, counted from the very rows seeded below: every period of the month is a multiple of it.
        var unit = new WindowRollup(open);
        for (long i = 0; i < windowRows; i++)
            unit.Add(SweepRow.From(AuditEntity.ToEntity(Traffic.Call(open.Start, SweepWindow.Length, windowRows, i, keys, sources), shards: 16)));
        var cells = unit.Cells;

        var periods = MonthPeriods(from, open.Start);
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(periods, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (period, token) =>
            await store.WritePeriodAsync(period, Scaled(cells, Windows(period)), token));
        var seededRollups = Stopwatch.GetElapsedTime(started);
        Console.WriteLine(FormattableString.Invariant(
            $"seeded rollups periods={periods.Count} (windows={periods.Count(p => p.Level == RollupLevel.Window)} hours={periods.Count(p => p.Level == RollupLevel.Hour)} days={periods.Count(p => p.Level == RollupLevel.Day)}) cells_per_period={cells.Count} seconds={seededRollups.TotalSeconds:F1}"));

        started = Stopwatch.GetTimestamp();
        await SeedRowsAsync(tables, open.Start, SweepWindow.Length, windowRows, keys, sources);
        await SeedRowsAsync(tables, open.End, TimeSpan.FromSeconds(edgeSeconds), edgeRows, keys, sources);
        Console.WriteLine(FormattableString.Invariant(
            $"seeded raw rows window={windowRows} edge={edgeRows} ({perSecond}/s, edge {edgeSeconds} s) seconds={Stopwatch.GetElapsedTime(started).TotalSeconds:F1}"));

        started = Stopwatch.GetTimestamp();
        var tally = new WindowTally(open);
        await foreach (var row in new AuditPass(tables).ReadAsync(open, CancellationToken.None))
            tally.Add(row);
        await store.WriteWindowAsync(tally.Rollup);
        await store.CompactAsync(now);
        var swept = Stopwatch.GetElapsedTime(started);
        var sameAsUnit = tally.Rows == windowRows && tally.Rollup.Cells.Select(Text).SequenceEqual(cells.Select(Text));
        Console.WriteLine(FormattableString.Invariant(
            $"swept window={open.Id} rows={tally.Rows} seconds={swept.TotalSeconds:F1} rollup_equals_seeded_unit={sameAsUnit}"));

        // What the report must say: the month's periods, the swept window, and the raw edge recounted call by call.
        var multiple = periods.Sum(Windows) + 1;
        var version = cells.Single(c => c.Dimension == RollupDimension.Version).Counts;
        var expected = new UsageTotals
        {
            Calls = version.Calls * multiple + edgeRows,
            Errors = version.Errors * multiple,
            InputTokens = version.InputTokens * multiple + edgeRows * 200,
            OutputTokens = version.OutputTokens * multiple + edgeRows * 50,
        };
        var perKey = cells.Where(c => c.Dimension == RollupDimension.RelayKey)
            .ToDictionary(c => c.Value!, c => c.Counts.Calls * multiple, StringComparer.Ordinal);
        for (long i = 0; i < edgeRows; i++)
            perKey[Traffic.RelayKey(i % keys)] = perKey.GetValueOrDefault(Traffic.RelayKey(i % keys)) + 1;

        var query = new UsageQuery(tables);
        var all = true;
        var worst = 0.0;
        foreach (var groupBy in Enum.GetValues<UsageGroupBy>())
        {
            for (var round = 0; round < repeats; round++)
            {
                started = Stopwatch.GetTimestamp();
                var report = await query.SummarizeAsync(from, now, providerKey: null, groupBy);
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                worst = Math.Max(worst, seconds);
                var totalsEqual = report.Totals.Calls == expected.Calls && report.Totals.Errors == expected.Errors
                    && report.Totals.InputTokens == expected.InputTokens && report.Totals.OutputTokens == expected.OutputTokens;
                var groupsEqual = groupBy switch
                {
                    UsageGroupBy.RelayKey => report.Groups.Count == perKey.Count && report.Groups.All(g => g.Key is { } k && perKey.GetValueOrDefault(k) == g.Calls),
                    _ => report.Groups.Count == 1 && report.Groups[0].Calls == expected.Calls,
                };
                all &= totalsEqual && groupsEqual;
                Console.WriteLine(FormattableString.Invariant(
                    $"usage groupBy={UsageQuery.Name(groupBy)} round={round + 1} seconds={seconds:F2} calls={report.Totals.Calls} expected_calls={expected.Calls} tokens={report.Totals.TotalTokens} expected_tokens={expected.TotalTokens} groups={report.Groups.Count} totals_equal={totalsEqual} groups_equal={groupsEqual}"));
            }
        }

        // The same month without the raw edge (up to the swept window's end): what the rollups alone cost.
        started = Stopwatch.GetTimestamp();
        var rollupsOnly = await query.SummarizeAsync(from, open.End, providerKey: null, UsageGroupBy.RelayKey);
        Console.WriteLine(FormattableString.Invariant(
            $"usage groupBy=relayKey to={open.End:yyyy-MM-ddTHH:mm}Z (rollups only, no raw edge) seconds={Stopwatch.GetElapsedTime(started).TotalSeconds:F2} calls={rollupsOnly.Totals.Calls} expected_calls={expected.Calls - edgeRows}"));

        Console.WriteLine(FormattableString.Invariant(
            $"RESULT usage from={from:yyyy-MM-ddTHH:mm:ss}Z to={now:yyyy-MM-ddTHH:mm:ss}Z calls={expected.Calls} slowest_s={worst:F2} counts_equal={all}"));
        Console.WriteLine(FormattableString.Invariant(
            $"targets (reported, not asserted): GET usage over 31 days under 2 s: {(worst < 2 ? "met" : "MISSED")}; totals equal the seeded counts: {(all ? "met" : "MISSED")}"));
        return 0;
    }

    // From the first whole window after `from`: its hour's remaining windows, its day's remaining hours, then whole days to `end`.
    private static List<RollupPeriod> MonthPeriods(DateTimeOffset from, DateTimeOffset end)
    {
        var periods = new List<RollupPeriod>();
        var cursor = from;
        foreach (var level in new[] { RollupLevel.Window, RollupLevel.Hour, RollupLevel.Day })
        {
            var upper = level switch
            {
                RollupLevel.Window => RollupPeriod.AtOrAfter(RollupLevel.Hour, cursor).Start,
                RollupLevel.Hour => RollupPeriod.AtOrAfter(RollupLevel.Day, cursor).Start,
                _ => end,
            };
            for (var period = RollupPeriod.AtOrAfter(level, cursor); period.End <= upper && period.End <= end; period = period.Next)
            {
                periods.Add(period);
                cursor = period.End;
            }
        }
        return periods;
    }

    private static long Windows(RollupPeriod period) => (long)(RollupPeriod.LengthOf(period.Level) / SweepWindow.Length);

    private static List<RollupCell> Scaled(IReadOnlyList<RollupCell> cells, long times) =>
    [
        .. cells.Select(c => c with
        {
            Counts = RollupCounts.Of(c.Counts.Calls * times, c.Counts.Errors * times, c.Counts.ServerErrors * times,
                c.Counts.InputTokens * times, c.Counts.OutputTokens * times, c.Counts.CostUsd * times),
        }),
    ];

    private static string Text(RollupCell cell) => string.Create(CultureInfo.InvariantCulture,
        $"{cell.RowKey} {cell.Counts.Calls} {cell.Counts.Errors} {cell.Counts.InputTokens} {cell.Counts.OutputTokens} {cell.Counts.CostUsd}");

    // As the audit writer writes them (AuditEntity, 16 shards), 100 to a transaction per partition, many at once.
    private static async Task SeedRowsAsync(TableStore tables, DateTimeOffset start, TimeSpan span, long count, int keys, int sources)
    {
        if (count == 0)
            return;
        var table = await tables.GetTableAsync(TableNames.Audit(start));
        var batches = Enumerable.Range(0, checked((int)count))
            .Select(i => AuditEntity.ToEntity(Traffic.Call(start, span, count, i, keys, sources), shards: 16))
            .GroupBy(e => e.PartitionKey, StringComparer.Ordinal)
            .SelectMany(p => p.Chunk(100))
            .ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (batch, token) =>
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)), token));
    }
}
