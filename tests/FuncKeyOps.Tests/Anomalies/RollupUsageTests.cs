using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Audit;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// <see cref="UsageQuery"/> over rollups: the same report as from the raw rows alone, whatever the window cuts, and
/// raw rows read only where no complete rollup period covers the window.
/// </summary>
public sealed class RollupUsageTests
{
    // Rows over 27 hours across the turn of a month; rollups written up to 02:10 on the 1st, the rest is the open edge.
    private static readonly DateTimeOffset First = new(2026, 3, 31, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Swept = new(2026, 4, 1, 2, 10, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Last = new(2026, 4, 1, 3, 0, 0, TimeSpan.Zero);
    private const int RowCount = 2600;

    // Windows that cut days, hours and windows, before, across and after what was swept.
    private static readonly List<(DateTimeOffset From, DateTimeOffset To, string? ProviderKey, UsageGroupBy GroupBy)> Cuts =
    [
        (First, Last, null, UsageGroupBy.ProviderKey),
        (First, Last, null, UsageGroupBy.RelayKey),
        (First.AddHours(-2), Swept.AddSeconds(-150), "pk-a", UsageGroupBy.Model),
        (First.AddHours(5).AddSeconds(1033), First.AddHours(18).AddMinutes(43), "pk-b", UsageGroupBy.RelayKey),
        (First.AddHours(13), First.AddHours(25), null, UsageGroupBy.Model),
        (First.AddHours(24).AddMinutes(-5), First.AddHours(24).AddMinutes(5), null, UsageGroupBy.RelayKey),
        (First.AddHours(24), Swept, "pk-a", UsageGroupBy.ProviderKey),
        (Swept.AddMinutes(-7), Last.AddMinutes(1), "pk-b", UsageGroupBy.ProviderKey),
    ];

    [Fact]
    public async Task Rollup_backed_reports_equal_raw_reports_for_windows_that_cut_hours_and_days()
    {
        await using var audit = await AuditHarness.CreateAsync();
        await audit.StartAsync();
        var records = Enumerable.Range(0, RowCount).Select(Row).ToList();
        foreach (var record in records)
            audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var reads = new TableReads();
        var tables = await TestTables.CreateAsync(prefix: audit.Tables.PhysicalName(""), policy: reads);
        var query = new UsageQuery(tables);
        var cuts = Cuts;

        // Before any sweep: raw rows only, as ever.
        var raw = new List<UsageReport>();
        foreach (var (from, to, key, groupBy) in cuts)
            raw.Add(await query.SummarizeAsync(from, to, key, groupBy));
        Assert.Equal(RowCount - records.Count(r => r.ProviderKeyName is null), raw[0].Totals.Calls);

        // The sweep's part: each window's rows read through the sweep's projection, rolled up, then compacted.
        var store = new RollupStore(tables);
        var windows = new List<SweepWindow>();
        for (var window = SweepWindow.Containing(First); window.Start < Swept; window = window.Next)
            windows.Add(window);
        await Parallel.ForEachAsync(windows, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (window, token) =>
        {
            var rollup = new WindowRollup(window);
            foreach (var month in AuditQuery.Months(window.Start, window.End))
            {
                await foreach (var row in AuditQuery.ReadAsync(tables, month, AuditQuery.Filter(window.Start, window.End, null), SweepRow.Columns, token))
                    rollup.Add(SweepRow.From(row));
            }
            await store.WriteWindowAsync(rollup, token);
        });
        Assert.Equal(new RollupCompaction(26, 1), await store.CompactAsync(Swept));

        for (var i = 0; i < cuts.Count; i++)
        {
            var (from, to, key, groupBy) = cuts[i];
            reads.Clear();
            var rolled = await query.SummarizeAsync(from, to, key, groupBy);
            var label = $"{from:O} to {to:O}, {key ?? "every key"} by {groupBy}";
            Assert.True(raw[i].Totals == rolled.Totals, $"{label}: {raw[i].Totals} != {rolled.Totals}");
            Assert.True(raw[i].Versions.SequenceEqual(rolled.Versions), label);
            Assert.True(raw[i].Groups.SequenceEqual(rolled.Groups), label);
            Assert.Equal((raw[i].From, raw[i].To, raw[i].ProviderKey, raw[i].GroupBy), (rolled.From, rolled.To, rolled.ProviderKey, rolled.GroupBy));

            // Raw rows are read only outside complete windows: the open edge after 02:10 and the windows a cut splits.
            var outside = records.Count(r => r.Time >= from && r.Time < to && (key is null || r.ProviderKeyName == key)
                && (r.Time >= Swept || !Whole(SweepWindow.Containing(r.Time), from, to)));
            Assert.True(outside == reads.Rows("audit"), $"{label}: {reads.Rows("audit")} raw rows read, {outside} outside complete windows");
        }

        // The whole span: the day from its day rows; the open edge raw.
        reads.Clear();
        await query.SummarizeAsync(First, Last, null, UsageGroupBy.ProviderKey);
        Assert.True(reads.Rows(TableNames.Rollups, "PartitionKey eq 'd20260331'") > 0);
        Assert.Equal(0, reads.Rows(TableNames.Rollups, "PartitionKey eq 'h20260331"));
        Assert.Equal(0, reads.Rows(TableNames.Rollups, "PartitionKey eq 'w20260331"));
        Assert.Equal(records.Count(r => r.Time >= Swept), reads.Rows("audit"));
    }

    [Fact]
    public async Task A_month_of_rollups_for_two_thousand_relay_keys_is_answered_from_day_rows_and_the_open_edge_alone()
    {
        // GET usage's longest window, ending 2.5 minutes into a window: the sweep has rolled up to 10:00.
        var to = new DateTimeOffset(2026, 5, 31, 10, 2, 30, TimeSpan.Zero);
        var from = to - UsageQuery.MaxRange;
        // Its own Azurite: seeding a month of rollups for 2,000 keys keeps one busy for a while, and the shared one
        // serves other tests whose admin calls must answer within their 10 s.
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var audit = await AuditHarness.CreateAsync(azurite.ConnectionString);
        await audit.StartAsync();
        var reads = new TableReads();
        var tables = await TestTables.CreateAsync(prefix: audit.Tables.PhysicalName(""), connectionString: azurite.ConnectionString, policy: reads);
        var store = new RollupStore(tables);

        // 20 provider key versions; 2,000 relay keys in the day rows. Seeded as compaction writes them.
        var versions = Enumerable.Range(0, 20).Select(i => ("pk-" + (i % 5), "v" + (i / 5))).ToList();
        List<RollupCell> Cells(bool relayKeys) =>
        [
            .. versions.Select(v => new RollupCell(RollupDimension.Version, v.Item1, v.Item2, RollupCounts.Of(100, 3, 1, 1000, 500, 0.25m))),
            .. relayKeys
                ? Enumerable.Range(0, 2000).Select(k => new RollupCell(RollupDimension.RelayKey, "pk-" + (k % 5), $"rk-{k:D4}", RollupCounts.Of(1, 0, 0, 10, 5, 0m)))
                : Enumerable.Empty<RollupCell>(),
        ];
        var periods = new List<RollupPeriod>();
        for (var day = RollupPeriod.AtOrAfter(RollupLevel.Day, from); day.End <= to; day = day.Next)
            periods.Add(day);
        for (var hour = RollupPeriod.AtOrAfter(RollupLevel.Hour, from); hour.End <= periods[0].Start; hour = hour.Next)
            periods.Add(hour);
        for (var hour = RollupPeriod.Containing(RollupLevel.Hour, periods[29].End); hour.End <= to; hour = hour.Next)
            periods.Add(hour);
        for (var window = RollupPeriod.AtOrAfter(RollupLevel.Window, from); window.End <= RollupPeriod.AtOrAfter(RollupLevel.Hour, from).Start; window = window.Next)
            periods.Add(window);
        Assert.Equal((30, 23, 11), (periods.Count(p => p.Level == RollupLevel.Day), periods.Count(p => p.Level == RollupLevel.Hour), periods.Count(p => p.Level == RollupLevel.Window)));
        await Parallel.ForEachAsync(periods, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (period, token) =>
            await store.WritePeriodAsync(period, Cells(relayKeys: period.Level == RollupLevel.Day), token));

        // The open edge's raw rows, and rows after the window that are not its.
        var open = SweepWindow.Containing(to).Start;
        var edge = Enumerable.Range(0, 50).Select(i => AuditRecords.Minimal($"edge-{i}", open.AddSeconds(3 * i)) with
        {
            ProviderKeyName = "pk-1", ProviderKeyVersion = "v0", RelayKeyId = "rk-0001", Status = 200, InputTokens = 2, OutputTokens = 1,
        }).ToList();
        foreach (var record in edge.Concat(edge.Select(r => r with { RequestId = r.RequestId + "-after", Time = to.AddSeconds(1) })))
            audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var query = new UsageQuery(tables);
        reads.Clear();
        var report = await query.SummarizeAsync(from, to, providerKey: null, UsageGroupBy.ProviderKey);

        var periodCount = periods.Count;
        Assert.Equal((periodCount * 20 * 100L + 50, periodCount * 20 * 3L, periodCount * 20 * 1000L + 100, periodCount * 20 * 500L + 50),
            (report.Totals.Calls, report.Totals.Errors, report.Totals.InputTokens, report.Totals.OutputTokens));
        Assert.Equal(20, report.Versions.Count);
        Assert.Equal(5, report.Groups.Count);
        // What was read: each period's version cells once (30 days' day rows among them), 64 markers, and of the raw
        // rows only the open edge's 50. No relay-key cell, no hour or window of a complete day.
        Assert.Equal(30 * 20, reads.Rows(TableNames.Rollups, "PartitionKey eq 'd"));
        Assert.Equal(periodCount * 20, reads.Rows(TableNames.Rollups, "RowKey ge 'v|'"));
        Assert.Equal(periodCount, reads.Rows(TableNames.Rollups, "PartitionKey eq 'marker'"));
        Assert.Equal(50, reads.Rows("audit"));
        Assert.DoesNotContain(reads.Reads, r => r.Query.Contains("'r|", StringComparison.Ordinal));
        Assert.Equal(periodCount * 20 + periodCount + 50, reads.Reads.Sum(r => r.Rows));

        // Grouped by relay key, the day rows' relay-key cells are read as well, and the open edge's rows join their key.
        reads.Clear();
        var byRelayKey = await query.SummarizeAsync(from, to, "pk-1", UsageGroupBy.RelayKey);
        Assert.Equal(400, byRelayKey.Groups.Count);
        Assert.Equal((1L * 30 + 50, 10L * 30 + 100), (byRelayKey.Groups.Single(g => g.Key == "rk-0001").Calls, byRelayKey.Groups.Single(g => g.Key == "rk-0001").InputTokens));
        Assert.Equal(periodCount * 4 * 100L + 50, byRelayKey.Totals.Calls);
        Assert.Equal(30 * 400 + periodCount * 4, reads.Rows(TableNames.Rollups, "PartitionKey eq '") - reads.Rows(TableNames.Rollups, "PartitionKey eq 'marker'"));
        Assert.Equal(50, reads.Rows("audit"));
    }

    private static bool Whole(SweepWindow window, DateTimeOffset from, DateTimeOffset to) => window.Start >= from && window.End <= to;

    private static AuditRecord Row(int i) => AuditRecords.Minimal($"rollup-{i:D5}", First.AddSeconds(37.3 * i)) with
    {
        Provider = "openai",
        Tenant = "tenant-" + (i % 2),
        ProviderKeyName = i % 19 == 0 ? null : i % 3 == 0 ? "pk-b" : "pk-a",
        ProviderKeyVersion = i % 2 == 0 ? "v1" : "v2",
        RelayKeyId = "rk-" + (i % 7),
        Model = i % 5 == 0 ? null : "m-" + (i % 4),
        Status = i % 11 == 0 ? 500 : i % 29 == 0 ? 502 : 200,
        ErrorCode = i % 13 == 0 ? "upstream_stream_broken" : null,
        Attempt = i % 17 == 0 ? 1 : i % 17 == 1 ? 2 : null,
        InputTokens = i % 23 == 0 ? null : i % 100,
        OutputTokens = i % 10,
        TokensEstimated = i % 31 == 0,
        CostEstimateUsd = i % 8 == 0 ? null : 0.0001m * (i % 9),
        SourceIp = "203.0.113." + (i % 5),
    };
}
