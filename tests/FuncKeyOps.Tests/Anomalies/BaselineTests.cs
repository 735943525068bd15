using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;
using static FuncKeyOps.Tests.Anomalies.RollupRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// Baselines from hour rollups in Azurite: median and MAD of the same hour-of-week (or hour-of-day until 3 weeks of
/// history), absent counts as zero after a key was first seen, unswept hours and finding windows left out, warm-up.
/// </summary>
public sealed class BaselineTests
{
    // Monday 10:00 UTC: hour-of-week 10.
    private static readonly DateTimeOffset Target = new(2026, 6, 29, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Baselines_are_the_median_and_mad_of_the_same_hour_with_warm_up_and_findings_left_out()
    {
        var tables = await TestTables.CreateAsync();
        var rollups = new RollupStore(tables);
        var store = new BaselineStore(tables);
        var options = Options.Create(new AnomalyOptions());
        var builder = new BaselineBuilder(rollups, store);

        // rk-old: 4 weeks of history, one burst week; the days before hold 1,000 calls, which the weekly method never reads.
        await HourAsync(Target.AddDays(-28), ("rk-old", 90));
        await HourAsync(Target.AddDays(-21), ("rk-old", 5000));
        await HourAsync(Target.AddDays(-14), ("rk-old", 110));
        await HourAsync(Target.AddDays(-7), ("rk-old", 100), ("rk-mid", 60));
        // Six days ago was never swept: not a quiet hour, no sample at all.
        var newCalls = new Dictionary<int, int> { [5] = 40, [4] = 30, [2] = 20, [1] = 10 }; // absent 3 days ago: zero
        foreach (var day in new[] { 5, 4, 3, 2, 1 })
        {
            List<(string, long)> calls = [("rk-old", 1000), ("rk-mid", 60)];
            if (newCalls.TryGetValue(day, out var n))
                calls.Add(("rk-new", n));
            await HourAsync(Target.AddDays(-day), [.. calls]);
        }
        // rk-mid and an idle key were first seen before any sample (an earlier hour's observation).
        await store.RecordSinceAsync([("relay-key:rk-mid", Target.AddDays(-10)), ("relay-key:rk-idle", Target.AddDays(-30))]);

        Assert.Equal(4, await builder.UpdateAsync(Target.AddMinutes(5), new HashSet<(string, DateTimeOffset)>()));
        var lookup = await new BaselineLookup(store, options).LoadAsync(Target.AddMinutes(20));
        var hour = await store.ReadHourAsync(10);

        var old = hour["relay-key:rk-old"];
        Assert.Equal((BaselineMethod.HourOfWeek, 4, Target.AddDays(-28)), (old.Method, old.Samples, old.Since));
        Assert.Equal((new BaselineStat(105, 10), new BaselineStat(1050, 100), new BaselineStat(0, 0)), (old.Calls, old.Tokens, old.Errors));
        Assert.True(lookup.TryGet("relay-key:rk-old", out var expected));
        Assert.Equal(new BaselineStat(105 / 12.0, 10 / 12.0), expected.Calls);

        var fresh = hour["relay-key:rk-new"];
        Assert.Equal((BaselineMethod.HourOfDay, 5, Target.AddDays(-5)), (fresh.Method, fresh.Samples, fresh.Since));
        Assert.Equal(new BaselineStat(20, 10), fresh.Calls);
        Assert.True(lookup.IsWarmingUp("relay-key:rk-new"));

        var mid = hour["relay-key:rk-mid"];
        Assert.Equal((BaselineMethod.HourOfDay, 6, new BaselineStat(60, 0)), (mid.Method, mid.Samples, mid.Calls));
        Assert.True(lookup.TryGet("relay-key:rk-mid", out var midExpected));
        Assert.Equal(new BaselineStat(5, 0), midExpected.Calls);

        // The provider key's versions summed; a finding's subject names the version, the lookup the key.
        var key = hour["provider-key:pk-a"];
        Assert.Equal((BaselineMethod.HourOfDay, 6, Target.AddDays(-7), new BaselineStat(60, 0)), (key.Method, key.Samples, key.Since, key.Calls));
        Assert.True(lookup.TryGet("provider-key:pk-a/v2", out var keyExpected));
        Assert.Equal(new BaselineStat(5, 0), keyExpected.Calls);

        // Known long enough but silent in every sample: zero. Never seen: no baseline.
        Assert.True(lookup.TryGet("relay-key:rk-idle", out var idle));
        Assert.Equal((0.0, 0), (idle.Calls.Median, idle.Samples));
        Assert.False(lookup.TryGet("relay-key:rk-none", out _));

        // Run again: the same rows. Then the burst week's window raised as a finding: that sample is left out.
        var before = await DumpAsync(tables, TableNames.Baselines);
        await builder.UpdateAsync(Target, new HashSet<(string, DateTimeOffset)>());
        Assert.Equal(before, await DumpAsync(tables, TableNames.Baselines));
        await builder.UpdateAsync(Target, new HashSet<(string, DateTimeOffset)> { ("relay-key:rk-old", Target.AddDays(-21).AddMinutes(10)) });
        var cleaned = (await store.ReadHourAsync(10))["relay-key:rk-old"];
        Assert.Equal((3, new BaselineStat(100, 10)), (cleaned.Samples, cleaned.Calls));

        async Task HourAsync(DateTimeOffset start, params (string RelayKey, long Calls)[] calls)
        {
            List<RollupCell> cells =
            [
                .. calls.Select(c => new RollupCell(RollupDimension.RelayKey, "pk-a", c.RelayKey, RollupCounts.Of(c.Calls, 0, 0, c.Calls * 10, 0, 0m))),
            ];
            if (start >= Target.AddDays(-7))
            {
                cells.Add(new RollupCell(RollupDimension.Version, "pk-a", "v1", RollupCounts.Of(50, 0, 0, 500, 0, 0m)));
                cells.Add(new RollupCell(RollupDimension.Version, "pk-a", "v2", RollupCounts.Of(10, 0, 0, 100, 0, 0m)));
            }
            Assert.True(await rollups.WritePeriodAsync(RollupPeriod.Containing(RollupLevel.Hour, start), cells));
        }
    }
}
