using Azure.Data.Tables;
using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.KnownSources;
using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Retention;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Anomalies;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Anomalies.RollupRows;
using BaselineRow = FuncKeyOps.Anomalies.Baselines.Baseline;

namespace FuncKeyOps.Tests.Retention;

/// <summary>
/// <see cref="RetentionJob"/> on Azurite with a fake clock: monthly audit tables go once their whole month is older than
/// <c>Audit:RetentionDays</c>, findings, rollups and baselines once past theirs; nothing younger is touched, a second
/// run changes nothing, and two instances at once drop each table once.
/// </summary>
public sealed class RetentionTests
{
    private static DateTimeOffset Month(int year, int month) => new(year, month, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task An_audit_table_goes_once_its_whole_month_is_older_than_the_retention_and_not_a_day_before()
    {
        var tables = await TestTables.CreateAsync();
        foreach (var month in new[] { Month(2025, 12), Month(2026, 1), Month(2026, 2), Month(2026, 3), Month(2026, 5) })
            await SeedAuditRowAsync(tables, month.AddDays(27));
        // 2026-05-29 06:00: the cut-off (90 days back) is 2026-02-28 06:00, inside February.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 29, 6, 0, 0, TimeSpan.Zero));
        var job = Job(tables, time);

        var first = await job.RunAsync(CancellationToken.None);

        Assert.Equal(["audit202512", "audit202601"], first.DroppedAuditTables);
        Assert.Equal(["audit202602", "audit202603", "audit202605"], await AuditTablesAsync(tables));

        // Two days on the cut-off (2026-03-02 06:00) has crossed into March: February ended 91 days ago and goes; March,
        // still partly inside, stays with its row.
        time.Advance(TimeSpan.FromDays(2));
        var second = await job.RunAsync(CancellationToken.None);

        Assert.Equal(["audit202602"], second.DroppedAuditTables);
        Assert.Equal(["audit202603", "audit202605"], await AuditTablesAsync(tables));
        Assert.Equal(1, await CountAsync(tables, TableNames.Audit(Month(2026, 3)), ""));

        // Each dropped table is one admin-trail row (actor retention), and a run with nothing due adds none.
        Assert.Empty((await job.RunAsync(CancellationToken.None)).DroppedAuditTables);
        Assert.Equal(["audit202512", "audit202601", "audit202602"], await TrailTargetsAsync(tables, time));
    }

    [Fact]
    public async Task Two_instances_at_once_drop_each_expired_table_once_and_record_it_once()
    {
        var tables = await TestTables.CreateAsync();
        foreach (var month in new[] { Month(2025, 10), Month(2025, 11), Month(2025, 12), Month(2026, 4) })
            await SeedAuditRowAsync(tables, month.AddDays(3));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 4, 20, 4, 0, 0, TimeSpan.Zero)); // cut-off 2026-01-20

        var runs = await Task.WhenAll(Job(tables, time).RunAsync(CancellationToken.None), Job(tables, time).RunAsync(CancellationToken.None));

        Assert.Equal(["audit202510", "audit202511", "audit202512"], runs.SelectMany(r => r.DroppedAuditTables).Order(StringComparer.Ordinal));
        Assert.Equal(["audit202604"], await AuditTablesAsync(tables));
        Assert.Equal(["audit202510", "audit202511", "audit202512"], await TrailTargetsAsync(tables, time));
    }

    [Fact]
    public async Task Findings_older_than_their_retention_go_and_younger_ones_and_the_sweeps_own_rows_stay()
    {
        var tables = await TestTables.CreateAsync();
        var now = new DateTimeOffset(2027, 5, 20, 12, 30, 0, TimeSpan.Zero); // 400 days back: 2026-04-15 12:30
        var store = new FindingStore(tables);
        var old = FindingParts.NewFinding(Detectors.AuthFailures, "source:203.0.113.1", FindingSeverity.Low, now,
            windowStart: new DateTimeOffset(2026, 4, 14, 23, 55, 0, TimeSpan.Zero));
        // The day of the cut-off is partly younger: its findings stay, even those of windows before the cut-off.
        var sameDay = FindingParts.NewFinding(Detectors.AuthFailures, "source:203.0.113.2", FindingSeverity.Low, now,
            windowStart: new DateTimeOffset(2026, 4, 15, 0, 0, 0, TimeSpan.Zero));
        var recent = FindingParts.NewFinding(Detectors.ErrorRate, "relay-key:rk-1", FindingSeverity.High, now);
        foreach (var finding in new[] { old, sameDay, recent })
            await store.AddIfAbsentAsync(finding, CancellationToken.None);
        var anomalies = await tables.GetTableAsync(TableNames.Anomalies);
        await anomalies.AddEntityAsync(new TableEntity(SweepCheckpointStore.Partition, SweepCheckpointStore.Row));
        await anomalies.AddEntityAsync(new TableEntity("shadow", "openai-main"));
        var job = Job(tables, new FakeTimeProvider(now));

        Assert.Equal(1, (await job.RunAsync(CancellationToken.None)).FindingsDeleted);
        Assert.Equal(0, (await job.RunAsync(CancellationToken.None)).FindingsDeleted);

        Assert.Null(await store.GetAsync(old.Id, CancellationToken.None));
        Assert.NotNull(await store.GetAsync(sameDay.Id, CancellationToken.None));
        Assert.NotNull(await store.GetAsync(recent.Id, CancellationToken.None));
        Assert.Equal(1, await CountAsync(tables, TableNames.Anomalies, TableClient.CreateQueryFilter($"PartitionKey eq {SweepCheckpointStore.Partition}")));
        Assert.Equal(1, await CountAsync(tables, TableNames.Anomalies, "PartitionKey eq 'shadow'"));
    }

    [Fact]
    public async Task Rollup_periods_that_ended_before_the_cutoff_go_with_their_markers_and_the_one_holding_it_stays()
    {
        var tables = await TestTables.CreateAsync();
        var now = new DateTimeOffset(2027, 5, 20, 12, 30, 0, TimeSpan.Zero);
        var cutoff = now - TimeSpan.FromDays(400); // 2026-04-15 12:30
        var store = new RollupStore(tables);
        // Windows first, then hours, then days: a period written marks its parent pending and unmarks its ancestors.
        foreach (var window in new[] { SweepWindow.Containing(cutoff.AddDays(-1)), SweepWindow.Containing(cutoff).Previous, SweepWindow.Containing(cutoff) })
        {
            var rollup = new WindowRollup(window);
            rollup.Add(Call(window.Start));
            Assert.True(await store.WriteWindowAsync(rollup));
        }
        foreach (var level in new[] { RollupLevel.Hour, RollupLevel.Day })
        {
            var holding = RollupPeriod.Containing(level, cutoff);
            var before = RollupPeriod.Containing(level, holding.Start.AddTicks(-1));
            foreach (var period in new[] { before, holding })
                Assert.True(await store.WritePeriodAsync(period, Cells(period.Start)));
        }
        var job = Job(tables, new FakeTimeProvider(now));

        var run = await job.RunAsync(CancellationToken.None);

        var kept = new[] { "w202604151230", "h2026041512", "d20260415" };
        Assert.Equal(kept.Order(StringComparer.Ordinal), await PartitionsAsync(tables, except: [RollupStore.MarkerPartition, RollupStore.PendingPartition]));
        Assert.Equal(kept.Order(StringComparer.Ordinal), await RowKeysAsync(tables, RollupStore.MarkerPartition));
        // Pending compactions of the periods that stay stay; the old hour's (from the day-old window) went.
        Assert.Equal(["d20260415", "h2026041512"], await RowKeysAsync(tables, RollupStore.PendingPartition));
        Assert.True(run.RollupRowsDeleted > 0);
        Assert.Equal(0, (await job.RunAsync(CancellationToken.None)).RollupRowsDeleted);
        Assert.Equal(kept.Order(StringComparer.Ordinal), await RowKeysAsync(tables, RollupStore.MarkerPartition));
    }

    [Fact]
    public async Task Baselines_not_computed_for_35_days_go_and_a_subject_with_none_left_loses_its_first_sighting()
    {
        var tables = await TestTables.CreateAsync();
        var now = new DateTimeOffset(2027, 5, 20, 12, 30, 0, TimeSpan.Zero);
        var stale = now - TimeSpan.FromDays(36);
        var fresh = now - TimeSpan.FromDays(34);
        var store = new BaselineStore(tables);
        await store.WriteAsync([Row("rk-gone", stale), Row("rk-gone", stale.AddHours(1)), Row("rk-live", stale), Row("rk-live", fresh)]);
        await store.RecordSinceAsync([("rk-gone", stale.AddDays(-30)), ("rk-live", stale.AddDays(-30))]);
        var job = Job(tables, new FakeTimeProvider(now));

        Assert.Equal(4, (await job.RunAsync(CancellationToken.None)).BaselineRowsDeleted);
        Assert.Equal(0, (await job.RunAsync(CancellationToken.None)).BaselineRowsDeleted);

        Assert.Equal(["rk-live"], (await store.SinceAsync()).Keys);
        Assert.Empty(await store.ReadHourAsync(BaselineRow.HourOfWeekOf(stale)));
        Assert.Equal(["rk-live"], (await store.ReadHourAsync(BaselineRow.HourOfWeekOf(fresh))).Keys);
    }

    [Fact]
    public async Task Known_sources_last_seen_a_day_past_the_new_source_horizon_go_and_the_others_stay()
    {
        var tables = await TestTables.CreateAsync();
        var now = new DateTimeOffset(2027, 5, 20, 12, 30, 0, TimeSpan.Zero);
        var table = await tables.GetTableAsync(TableNames.KnownSources);
        foreach (var (source, daysAgo) in new[] { ("192.0.2.1", 31.5), ("192.0.2.2", 30.5), ("2001:db8::/64", 2.0) })
            await table.AddEntityAsync(KnownSourceRow.First("rk-1", source, now - TimeSpan.FromDays(daysAgo)).ToEntity());
        var job = Job(tables, new FakeTimeProvider(now));

        Assert.Equal(1, (await job.RunAsync(CancellationToken.None)).KnownSourcesDeleted);
        Assert.Equal(0, (await job.RunAsync(CancellationToken.None)).KnownSourcesDeleted);

        var left = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>())
            left.Add(KnownSourceRow.From(row).Source);
        Assert.Equal(["192.0.2.2", "2001:db8::/64"], left.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Nothing_written_yet_is_nothing_to_do()
    {
        var tables = await TestTables.CreateAsync();
        var run = await Job(tables, new FakeTimeProvider(new DateTimeOffset(2027, 1, 1, 4, 0, 0, TimeSpan.Zero))).RunAsync(CancellationToken.None);

        Assert.Equal((0, 0, 0, 0, 0), (run.DroppedAuditTables.Count, run.FindingsDeleted, run.RollupRowsDeleted, run.BaselineRowsDeleted, run.KnownSourcesDeleted));
    }

    private static RetentionJob Job(TableStore tables, TimeProvider time) => new(
        tables, new AdminEventStore(tables), Options.Create(new AuditOptions()), Options.Create(new RetentionOptions()), time,
        NullLogger<RetentionJob>.Instance);

    private static Baseline Row(string subject, DateTimeOffset hour) => new(
        subject, BaselineRow.HourOfWeekOf(hour), RollupPeriod.Containing(RollupLevel.Hour, hour).Start, hour.AddDays(-30),
        BaselineMethod.HourOfWeek, 4, new BaselineStat(10, 2), new BaselineStat(1000, 200), new BaselineStat(0, 0));

    private static List<RollupCell> Cells(DateTimeOffset time)
    {
        var rollup = new WindowRollup(SweepWindow.Containing(time));
        rollup.Add(Call(time));
        return [.. rollup.Cells];
    }

    private static async Task SeedAuditRowAsync(TableStore tables, DateTimeOffset time)
    {
        var table = await tables.GetTableAsync(TableNames.Audit(time));
        await table.AddEntityAsync(new TableEntity(TableKeys.AuditPartition(time, 0), Guid.NewGuid().ToString("N")) { ["Time"] = time });
    }

    private static async Task<List<string>> AuditTablesAsync(TableStore tables)
    {
        var prefix = tables.PhysicalName("");
        var names = new List<string>();
        await foreach (var table in tables.Service.QueryAsync(TableClient.CreateQueryFilter($"TableName ge {prefix} and TableName lt {prefix + "~"}")))
        {
            if (table.Name.StartsWith(tables.PhysicalName(TableNames.AuditPrefix), StringComparison.Ordinal))
                names.Add(table.Name[prefix.Length..]);
        }
        return [.. names.Order(StringComparer.Ordinal)];
    }

    private static async Task<List<string>> TrailTargetsAsync(TableStore tables, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var (events, _) = await new AdminEventStore(tables).PageAsync(now.AddDays(-30), now.AddDays(1), AdminEventStore.MaxPageSize, null, CancellationToken.None);
        Assert.All(events, e => Assert.Equal((RetentionJob.Actor, "DELETE", RetentionJob.DropRoute, 204), (e.Actor, e.Method, e.Route, e.Status)));
        return [.. events.Select(e => e.Target!).Order(StringComparer.Ordinal)];
    }

    private static async Task<int> CountAsync(TableStore tables, string logical, string filter)
    {
        var count = 0;
        await foreach (var _ in tables.Service.GetTableClient(tables.PhysicalName(logical)).QueryAsync<TableEntity>(filter))
            count++;
        return count;
    }

    private static async Task<List<string>> PartitionsAsync(TableStore tables, string[] except)
    {
        var partitions = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var row in tables.Service.GetTableClient(tables.PhysicalName(TableNames.Rollups)).QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            if (!except.Contains(row.PartitionKey))
                partitions.Add(row.PartitionKey);
        }
        return [.. partitions];
    }

    private static async Task<List<string>> RowKeysAsync(TableStore tables, string partition)
    {
        var keys = new List<string>();
        await foreach (var row in tables.Service.GetTableClient(tables.PhysicalName(TableNames.Rollups))
                           .QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition}"), select: ["RowKey"]))
            keys.Add(row.RowKey);
        return [.. keys.Order(StringComparer.Ordinal)];
    }
}
