using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Rotation;
using FuncKeyOps.Tests.Storage;
using static FuncKeyOps.Tests.Anomalies.RollupRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// <see cref="WindowRollup"/> and <see cref="RollupStore"/> on Azurite: counts by the usage rules, windows written by
/// overwrite, hours and days compacted once complete, and the same table whatever write a crash interrupts.
/// </summary>
public sealed class RollupStoreTests
{
    private static readonly DateTimeOffset Hour = new(2026, 3, 31, 23, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Later = Hour.AddDays(2);

    [Fact]
    public void A_window_counts_every_dimension_by_the_usage_rules()
    {
        var window = SweepWindow.Containing(Hour);
        var rollup = new WindowRollup(window);
        rollup.Add(Call(Hour, input: 100, output: 50, cost: 0.5m));
        // A failed first attempt: a call and an error, its copied tokens and cost not counted.
        rollup.Add(Call(Hour.AddSeconds(1), status: 502, attempt: 1, input: 100, output: 50, cost: 0.5m, errorCode: "upstream_error"));
        rollup.Add(Call(Hour.AddSeconds(2), attempt: 2, input: 100, output: 50, cost: 0.5m));
        // An error code after a 200 is an error but not a server error; estimated (null output) tokens count as given.
        rollup.Add(Call(Hour.AddSeconds(3), version: "v2", relayKey: "rk-2", model: null, errorCode: "upstream_stream_broken", input: 7, output: null, cost: null));
        // Refused before a key was chosen: no provider key, still the relay key's, the tenant's and the source's call.
        rollup.Add(Call(Hour.AddSeconds(4), providerKey: null, version: null, model: null, status: 429, errorCode: "quota_exceeded", input: null, output: null, cost: null, source: "198.51.100.1"));
        rollup.Add(Call(window.End.AddTicks(-1), relayKey: "rk/#?|}", model: new string('x', 300), status: 500));

        Assert.Equal(6, rollup.Rows);
        var cells = rollup.Cells.ToDictionary(c => (c.Dimension, c.ProviderKey, c.Value), c => Counts(c.Counts));
        Assert.Equal(cells.Count, rollup.Cells.Select(c => c.RowKey).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal((4L, 2L, 2L, 210L, 105L, 1.001m), cells[(RollupDimension.Version, "pk-a", "v1")]);
        Assert.Equal((1L, 1L, 0L, 7L, 0L, 0m), cells[(RollupDimension.Version, "pk-a", "v2")]);
        Assert.Equal((1L, 1L, 0L, 0L, 0L, 0m), cells[(RollupDimension.Version, null, null)]);
        Assert.Equal((3L, 1L, 1L, 200L, 100L, 1.0m), cells[(RollupDimension.RelayKey, "pk-a", "rk-1")]);
        Assert.Equal((1L, 1L, 0L, 0L, 0L, 0m), cells[(RollupDimension.RelayKey, null, "rk-1")]);
        Assert.Equal((1L, 1L, 1L, 10L, 5L, 0.001m), cells[(RollupDimension.RelayKey, "pk-a", "rk/#?|}")]);
        Assert.Equal((1L, 1L, 1L, 10L, 5L, 0.001m), cells[(RollupDimension.Model, "pk-a", new string('x', 300))]);
        Assert.Equal((1L, 1L, 0L, 7L, 0L, 0m), cells[(RollupDimension.Model, "pk-a", null)]);
        Assert.Equal((6L, 4L, 2L, 217L, 105L, 1.001m), cells[(RollupDimension.Tenant, null, "tenant-a")]);
        Assert.Equal((1L, 1L, 0L, 0L, 0L, 0m), cells[(RollupDimension.Source, null, "198.51.100.1")]);
        Assert.Equal(3 + 4 + 4 + 1 + 2, cells.Count);

        Assert.Throws<ArgumentOutOfRangeException>(() => rollup.Add(Call(window.End)));
    }

    [Fact]
    public async Task A_window_written_again_is_overwritten_and_its_compacted_hour_and_day_are_compacted_again()
    {
        var tables = await TestTables.CreateAsync();
        var store = new RollupStore(tables);
        var day = new DateTimeOffset(2026, 3, 31, 0, 0, 0, TimeSpan.Zero);
        await WriteDayAsync(store, day, (window, rollup) => rollup.Add(Call(window.Start, relayKey: "rk-" + window.Start.Hour)));

        // An hour with 11 windows of 12 is not compacted, nor its day; the twelfth completes both.
        Assert.Equal(new RollupCompaction(23, 0), await store.CompactAsync(Later));
        Assert.Equal(new RollupCompaction(0, 0), await store.CompactAsync(Later));
        Assert.Empty(await store.CompleteAsync(RollupLevel.Day, day, day.AddDays(1)));
        var last = SweepWindow.Containing(day.AddDays(1)).Previous;
        var lastRollup = new WindowRollup(last);
        lastRollup.Add(Call(last.Start, relayKey: "rk-23"));
        Assert.True(await store.WriteWindowAsync(lastRollup));
        // Not before its hour is over by the clock given.
        Assert.Equal(new RollupCompaction(0, 0), await store.CompactAsync(last.Start));
        Assert.Equal(new RollupCompaction(1, 1), await store.CompactAsync(Later));
        Assert.Equal(new[] { day }, await store.CompleteAsync(RollupLevel.Day, day, day.AddDays(1)));
        Assert.Equal(24, (await store.CompleteAsync(RollupLevel.Hour, day, day.AddDays(1))).Count);
        Assert.Equal((288L, 288L * 10, 288L * 5), Sum(await CellsAsync(store, RollupPeriod.Containing(RollupLevel.Day, day), RollupDimension.Version)));
        Assert.Equal(24, (await CellsAsync(store, RollupPeriod.Containing(RollupLevel.Day, day), RollupDimension.RelayKey)).Count);

        // The same counts again: nothing is written.
        var before = await DumpAsync(tables);
        Assert.False(await store.WriteWindowAsync(lastRollup));
        Assert.Equal(new RollupCompaction(0, 0), await store.CompactAsync(Later));
        Assert.Equal(before, await DumpAsync(tables));

        // Late rows: the window is swept again with other counts and without rk-23. Its hour and day are no longer
        // complete until compacted again, and then hold the new counts only.
        var swept = new WindowRollup(last);
        swept.Add(Call(last.Start, relayKey: "rk-late", input: 1000));
        swept.Add(Call(last.Start.AddSeconds(1), relayKey: "rk-late", input: 1000));
        Assert.True(await store.WriteWindowAsync(swept));
        Assert.Empty(await store.CompleteAsync(RollupLevel.Day, day, day.AddDays(1)));
        Assert.Equal(23, (await store.CompleteAsync(RollupLevel.Hour, day, day.AddDays(1))).Count);
        Assert.Equal(new string?[] { "rk-late" }, (await CellsAsync(store, RollupPeriod.Of(last), RollupDimension.RelayKey)).Select(c => c.Value));
        Assert.Equal(new RollupCompaction(1, 1), await store.CompactAsync(Later));
        var dayPeriod = RollupPeriod.Containing(RollupLevel.Day, day);
        Assert.Equal((289L, 287L * 10 + 2000, 289L * 5), Sum(await CellsAsync(store, dayPeriod, RollupDimension.Version)));
        Assert.Equal(11L, (await CellsAsync(store, dayPeriod, RollupDimension.RelayKey)).Single(c => c.Value == "rk-23").Counts.Calls);
        Assert.Equal(2L, (await CellsAsync(store, dayPeriod, RollupDimension.RelayKey)).Single(c => c.Value == "rk-late").Counts.Calls);
    }

    [Fact]
    public async Task A_crash_at_any_write_of_a_rewrite_and_compaction_leaves_the_table_a_rerun_makes_the_same()
    {
        var hour = new DateTimeOffset(2026, 3, 31, 10, 0, 0, TimeSpan.Zero);
        var policy = new CrashAtWrite();
        var tables = await TestTables.CreateAsync(policy: policy);
        var store = new RollupStore(tables);
        var windows = new Dictionary<SweepWindow, WindowRollup>();
        for (var window = SweepWindow.Containing(hour); window.Start < hour.AddHours(1); window = window.Next)
        {
            var rollup = windows[window] = new WindowRollup(window);
            rollup.Add(Call(window.Start, relayKey: "rk-" + window.Start.Minute));
            await store.WriteWindowAsync(rollup);
        }
        await store.CompactAsync(Later);
        var swept = await DumpAsync(tables);

        // One window swept again with late rows, and compacted again: the run without a crash.
        var late = new WindowRollup(SweepWindow.Containing(hour.AddMinutes(25)));
        late.Add(Call(late.Window.Start, relayKey: "rk-late", version: "v9"));
        policy.Reset(0, false);
        await store.WriteWindowAsync(late);
        await store.CompactAsync(Later);
        var writes = policy.Writes;
        var reference = await DumpAsync(tables);
        Assert.InRange(writes, 8, 40);
        Assert.NotEqual(swept, reference);

        foreach (var afterSending in new[] { false, true })
        {
            for (var at = 1; at <= writes; at++)
            {
                // Back to the hour as first swept (itself a rewrite and a compaction), then the crash at one write.
                await store.WriteWindowAsync(windows[late.Window]);
                await store.CompactAsync(Later);
                Assert.Equal(swept, await DumpAsync(tables));
                policy.Reset(at, afterSending);
                await Assert.ThrowsAsync<SimulatedCrash>(async () =>
                {
                    await store.WriteWindowAsync(late);
                    await store.CompactAsync(Later);
                });
                policy.Reset(0, false);

                // What a restarted sweep does: the window again, then the compaction.
                await store.WriteWindowAsync(late);
                await store.CompactAsync(Later);
                var rows = await DumpAsync(tables);
                Assert.True(reference.SequenceEqual(rows), $"crash at write {at} (after sending: {afterSending}):\n"
                    + string.Join("\n", rows.Except(reference)) + "\nmissing:\n" + string.Join("\n", reference.Except(rows)));
            }
        }
    }

    private static async Task WriteDayAsync(RollupStore store, DateTimeOffset day, Action<SweepWindow, WindowRollup> fill)
    {
        // Every window but the day's last, a few at a time as a catching-up sweep writes them one after another.
        var windows = new List<SweepWindow>();
        for (var window = SweepWindow.Containing(day); window.End < day.AddDays(1); window = window.Next)
            windows.Add(window);
        await Parallel.ForEachAsync(windows, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (window, token) =>
        {
            var rollup = new WindowRollup(window);
            fill(window, rollup);
            Assert.True(await store.WriteWindowAsync(rollup, token));
        });
    }

    private static async Task<List<RollupCell>> CellsAsync(RollupStore store, RollupPeriod period, RollupDimension dimension)
    {
        var cells = new List<RollupCell>();
        await foreach (var cell in store.ReadAsync(period, [RollupKeys.Range(dimension, null)]))
            cells.Add(cell);
        Assert.All(cells, c => Assert.Equal(dimension, c.Dimension));
        return cells;
    }

    private static (long Calls, long Input, long Output) Sum(IEnumerable<RollupCell> cells) =>
        (cells.Sum(c => c.Counts.Calls), cells.Sum(c => c.Counts.InputTokens), cells.Sum(c => c.Counts.OutputTokens));

    private static (long, long, long, long, long, decimal) Counts(RollupCounts c) =>
        (c.Calls, c.Errors, c.ServerErrors, c.InputTokens, c.OutputTokens, c.CostUsd);
}
