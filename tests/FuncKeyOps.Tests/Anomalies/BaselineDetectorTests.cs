using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The baseline detectors (<c>volume</c>, <c>tokens</c>' relative part, <c>quiet_hours</c>) over audit rows in Azurite,
/// against baselines in the <c>baselines</c> table: the pattern and a near miss under each threshold, warm-up, quiet
/// hours on a tenant's clock across its daylight-saving change, and the sweep keeping the baselines itself with the
/// windows raised as findings left out.
/// </summary>
public class BaselineDetectorTests
{
    private static readonly DateTimeOffset W = SweepHarness.FirstWindow.Start;

    [Fact]
    public async Task Volume_over_5x_the_baseline_and_over_500_calls_is_found_per_relay_key_and_provider_key_and_near_misses_are_not()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await BaselineAsync(sweep.Tables, "relay-key:rk-over", W, callsPerHour: 1440);     // 120 a window: 5x is 600
        await BaselineAsync(sweep.Tables, "relay-key:rk-at", W, callsPerHour: 1440);
        await BaselineAsync(sweep.Tables, "relay-key:rk-floor", W, callsPerHour: 60);       // 5 a window: the floor of 500 decides
        await KnownSinceAsync(sweep.Tables, "relay-key:rk-floor-over", W.AddDays(-30));    // known, silent in every sample: zero
        await KnownSinceAsync(sweep.Tables, "provider-key:pk-vol", W.AddDays(-30));
        var rows = new List<AuditRecord>();
        rows.AddRange(Times(601, i => Call(In(W, i), "rk-over")));
        rows.AddRange(Times(600, i => Call(In(W, i), "rk-at")));                             // exactly 5x: near miss
        rows.AddRange(Times(500, i => Call(In(W, i), "rk-floor")));                          // 100x, but not over 500: near miss
        rows.AddRange(Times(501, i => Call(In(W, i), "rk-floor-over", providerKey: "pk-vol", version: "v3")));
        rows.AddRange(Times(900, i => Call(In(W, i), "rk-unknown")));                        // never seen: no baseline, silent

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        Assert.Equal(
            [
                ("provider-key:pk-vol/v3", 501.0, (double?)0.0, 500.0),
                ("relay-key:rk-floor-over", 501.0, 0.0, 500.0),
                ("relay-key:rk-over", 601.0, 120.0, 600.0),
            ],
            findings.Select(f => (f.Subject, f.Observed, f.Baseline, f.Threshold)).Order());
        Assert.All(findings, f => Assert.Equal((Detectors.Volume, FindingSeverity.Medium, FindingId.For(Detectors.Volume, f.Subject, W)),
            (f.Detector, f.Severity, f.Id)));
        Assert.Equal("tenant-a", findings.Single(f => f.Subject == "relay-key:rk-over").Tenant);
    }

    [Fact]
    public async Task Tokens_over_5x_the_baseline_with_at_least_100000_are_found_once_per_key_and_the_warm_up_keeps_only_the_absolute_part()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await BaselineAsync(sweep.Tables, "relay-key:rk-rel", W, callsPerHour: 12, tokensPerHour: 240_000);    // 20,000 a window
        await BaselineAsync(sweep.Tables, "relay-key:rk-rel-at", W, callsPerHour: 12, tokensPerHour: 240_000);
        await KnownSinceAsync(sweep.Tables, "relay-key:rk-min", W.AddDays(-30));                             // zero: the floor decides
        await KnownSinceAsync(sweep.Tables, "relay-key:rk-min-at", W.AddDays(-30));
        await BaselineAsync(sweep.Tables, "relay-key:rk-both", W, callsPerHour: 12, tokensPerHour: 120_000);  // 10,000 a window
        // Six days of history: still warming up (Anomalies:WarmUp 7 days), however its calls and tokens jump.
        await BaselineAsync(sweep.Tables, "relay-key:rk-warm", W, callsPerHour: 12, tokensPerHour: 120, since: W.AddDays(-6));
        await KnownSinceAsync(sweep.Tables, "relay-key:rk-warm-rel", W.AddDays(-6));
        var rows = new List<AuditRecord>
        {
            Call(In(W, 1), "rk-rel", input: 100_001, output: 0),          // over 5x 20,000
            Call(In(W, 1), "rk-rel-at", input: 99_999, output: 1),        // exactly 5x: near miss
            Call(In(W, 1), "rk-min", input: 99_998, output: 1),           // 99,999: under the floor, near miss
            Call(In(W, 1), "rk-min-at", input: 99_999, output: 1),        // 100,000: at least the floor
            Call(In(W, 1), "rk-both", input: 1_000_000, output: 1),       // both parts: one finding, the absolute one
            Call(In(W, 1), "rk-warm", input: 1_000_000, output: 1),       // absolute part fires in the warm-up
            Call(In(W, 1), "rk-warm-rel", input: 500_000, output: 0),     // relative part alone: silent in the warm-up
        };
        rows.AddRange(Times(999, i => Call(In(W, i), "rk-warm", input: 0, output: 0))); // 1,000 calls: no volume finding either

        var (_, findings) = await sweep.SweepFirstWindowAsync(rows);

        Assert.Equal(
            [
                (Detectors.Tokens, "relay-key:rk-both", 1_000_001.0, (double?)10_000.0, 1_000_000.0),
                (Detectors.Tokens, "relay-key:rk-min-at", 100_000.0, 0.0, 100_000.0),
                (Detectors.Tokens, "relay-key:rk-rel", 100_001.0, 20_000.0, 100_000.0),
                (Detectors.Tokens, "relay-key:rk-warm", 1_000_001.0, null, 1_000_000.0),
            ],
            findings.Select(f => (f.Detector, f.Subject, f.Observed, f.Baseline, f.Threshold)).Order());
        Assert.All(findings, f => Assert.Equal(FindingSeverity.Medium, f.Severity));
    }

    [Fact]
    public async Task Quiet_hours_are_read_on_the_tenants_clock_in_winter_time()
    {
        // Tuesday 10 March 2026: Berlin is UTC+1, so 01:00 UTC is 02:00 there and 00:55 UTC is 01:55.
        var start = new DateTimeOffset(2026, 3, 10, 0, 57, 30, TimeSpan.Zero);
        await using var sweep = await SweepHarness.CreateAsync(QuietSettings, start: start);
        var before = new DateTimeOffset(2026, 3, 10, 0, 55, 0, TimeSpan.Zero);
        var quiet = before.AddMinutes(5);
        foreach (var key in new[] { "rk-b", "rk-b-min", "rk-u" })
            await KnownSinceAsync(sweep.Tables, "relay-key:" + key, start.AddDays(-30));
        await BaselineAsync(sweep.Tables, "relay-key:rk-b-share", quiet, callsPerHour: 144);      // 12 a window
        await BaselineAsync(sweep.Tables, "relay-key:rk-b-share-over", quiet, callsPerHour: 144);
        await BaselineAsync(sweep.Tables, "relay-key:rk-b-warm", quiet, callsPerHour: 0, since: start.AddDays(-3));
        var rows = new List<AuditRecord>();
        rows.AddRange(Times(101, i => Call(In(before, i), "rk-b", tenant: "berlin")));            // 01:55 in Berlin: not yet
        rows.AddRange(Times(101, i => Call(In(quiet, i), "rk-b", tenant: "berlin")));             // 02:00 in Berlin
        rows.AddRange(Times(100, i => Call(In(quiet, i), "rk-b-min", tenant: "berlin")));         // not over 100
        rows.AddRange(Times(120, i => Call(In(quiet, i), "rk-b-share", tenant: "berlin")));       // 12 is not under a tenth of 120
        rows.AddRange(Times(121, i => Call(In(quiet, i), "rk-b-share-over", tenant: "berlin")));  // 12 is under 12.1
        rows.AddRange(Times(400, i => Call(In(quiet, i), "rk-b-warm", tenant: "berlin")));        // warming up
        rows.AddRange(Times(101, i => Call(In(quiet, i), "rk-u", tenant: "utc-co")));             // 01:00 on a UTC clock: not quiet

        var findings = await SweepToAsync(sweep, rows, quiet.AddMinutes(11));

        Assert.Equal(
            [
                ("relay-key:rk-b", quiet, 101.0, (double?)0.0, 100.0),
                ("relay-key:rk-b-share-over", quiet, 121.0, 12.0, 120.0),
            ],
            findings.Select(f => (f.Subject, f.WindowStart, f.Observed, f.Baseline, f.Threshold)).Order());
        Assert.All(findings, f => Assert.Equal((Detectors.QuietHours, "berlin", "Europe/Berlin"), (f.Detector, f.Tenant, f.Details!["timeZone"])));
        Assert.Equal("2026-03-10T02:00+01:00", findings[0].Details!["localTime"]);
    }

    [Fact]
    public async Task Quiet_hours_follow_the_tenants_clock_into_summer_time_and_end_at_06_00()
    {
        // Friday 10 April 2026: Berlin is UTC+2, so its 02:00 is 00:00 UTC and its 06:00 is 04:00 UTC.
        var start = new DateTimeOffset(2026, 4, 9, 23, 57, 30, TimeSpan.Zero);
        await using var sweep = await SweepHarness.CreateAsync(QuietSettings, start: start);
        foreach (var key in new[] { "rk-b", "rk-u" })
            await KnownSinceAsync(sweep.Tables, "relay-key:" + key, start.AddDays(-30));
        var first = new DateTimeOffset(2026, 4, 9, 23, 55, 0, TimeSpan.Zero);     // 01:55 CEST
        var begin = first.AddMinutes(5);                                            // 02:00 CEST
        var last = begin.AddHours(4).AddMinutes(-5);                                // 05:55 CEST
        var end = last.AddMinutes(5);                                               // 06:00 CEST, 04:00 UTC
        var rows = new List<AuditRecord>();
        foreach (var window in new[] { first, begin, last, end })
            rows.AddRange(Times(101, i => Call(In(window, i), "rk-b", tenant: "berlin")));
        rows.AddRange(Times(101, i => Call(In(begin, i), "rk-u", tenant: "utc-co")));  // 00:00 UTC: not quiet on its clock
        rows.AddRange(Times(101, i => Call(In(end, i), "rk-u", tenant: "utc-co")));    // 04:00 UTC: quiet on its clock

        var findings = await SweepToAsync(sweep, rows, end.AddMinutes(6));

        Assert.Equal(
            [("relay-key:rk-b", begin), ("relay-key:rk-b", last), ("relay-key:rk-u", end)],
            findings.Select(f => (f.Subject, f.WindowStart)).Order());
        Assert.All(findings, f => Assert.Equal(Detectors.QuietHours, f.Detector));
        Assert.Equal("2026-04-10T02:00+02:00", findings.Single(f => f.WindowStart == begin).Details!["localTime"]);
    }

    [Fact]
    public async Task The_sweep_updates_the_next_hours_baselines_once_an_hour_is_swept_leaving_out_the_windows_raised_as_findings()
    {
        await using var sweep = await SweepHarness.CreateAsync(configure: s => s.AddRollupsAndBaselines(new ConfigurationBuilder().Build()));
        var next = W.AddHours(1); // 11:00: the hour whose baselines sweeping 10:00-10:55 computes
        var rollups = new RollupStore(sweep.Tables);
        var baselines = new BaselineStore(sweep.Tables);
        await baselines.RecordSinceAsync([("relay-key:rk-x", W.AddDays(-10)), ("relay-key:rk-y", W.AddDays(-10))]);
        // The same hour of the last 7 days: 120 calls an hour, but 6,000 two days ago.
        for (var day = 1; day <= 7; day++)
        {
            var calls = day == 2 ? 6000 : 120;
            Assert.True(await rollups.WritePeriodAsync(RollupPeriod.Containing(RollupLevel.Hour, next.AddDays(-day)),
            [
                new RollupCell(RollupDimension.RelayKey, "pk-a", "rk-x", RollupCounts.Of(calls, 0, 0, 0, 0, 0m)),
                new RollupCell(RollupDimension.RelayKey, "pk-a", "rk-y", RollupCounts.Of(calls, 0, 0, 0, 0, 0m)),
            ]));
        }
        // rk-x's burst was raised as a finding (by an earlier sweep, stored as the responder stores it); rk-y's was not.
        var raised = next.AddDays(-2).AddMinutes(10);
        await new FindingStore(sweep.Tables).AddIfAbsentAsync(new Finding
        {
            Id = FindingId.For(Detectors.Volume, "relay-key:rk-x", raised),
            Detector = Detectors.Volume,
            Subject = "relay-key:rk-x",
            WindowStart = raised,
            WindowEnd = raised + SweepWindow.Length,
            Observed = 6000,
            Threshold = 500,
            Severity = FindingSeverity.High,
            Summary = "seeded",
            FoundAt = raised,
        }, CancellationToken.None);

        // The first run places the checkpoint; the next sweeps 10:00 to 10:55, the last of which ends the hour.
        Assert.Empty((await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None)).Windows);
        sweep.MoveTo(next.AddMinutes(1.5));
        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal(12, run.Windows.Count);

        var hour = await baselines.ReadHourAsync(Baseline.HourOfWeekOf(next));
        Assert.Equal((6, new BaselineStat(120, 0)), (hour["relay-key:rk-x"].Samples, hour["relay-key:rk-x"].Calls));
        Assert.Equal((7, new BaselineStat(120, 0)), (hour["relay-key:rk-y"].Samples, hour["relay-key:rk-y"].Calls));
        Assert.Equal(next, hour["relay-key:rk-x"].Hour);

        // Handed the hour's last window again (a run cut before its checkpoint write): the same rows.
        var written = await RollupRows.DumpAsync(sweep.Tables, TableNames.Baselines);
        var sink = sweep.Services.GetServices<IClosedWindowSink>().OfType<BaselineUpdateSink>().Single();
        await sink.WriteAsync(new WindowTally(SweepWindow.Containing(next).Previous), [], CancellationToken.None);
        Assert.Equal(written, await RollupRows.DumpAsync(sweep.Tables, TableNames.Baselines));

        // And the next hour's first window is judged on them: 10 a window, so the floor of 500 decides (499 are not over it).
        await sweep.SeedAsync(Times(501, i => Call(In(next, i), "rk-x")).Concat(Times(499, i => Call(In(next, i), "rk-y"))));
        sweep.MoveTo(next.AddMinutes(6.5));
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        var finding = Assert.Single(sweep.Responder.Findings);
        Assert.Equal((Detectors.Volume, "relay-key:rk-x", 501.0, (double?)10.0, 500.0), (finding.Detector, finding.Subject, finding.Observed, finding.Baseline, finding.Threshold));
    }

    private static readonly Dictionary<string, string?> QuietSettings = new()
    {
        ["Anomalies:Tenants:berlin:TimeZone"] = "Europe/Berlin",
        ["Anomalies:MaxWindowsPerRun"] = "60",
    };

    /// <summary>The first run (placing the checkpoint), the rows stored, then one run at <paramref name="to"/>; what was found.</summary>
    private static async Task<IReadOnlyList<Finding>> SweepToAsync(SweepHarness sweep, IEnumerable<AuditRecord> rows, DateTimeOffset to)
    {
        Assert.Empty((await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None)).Windows);
        await sweep.SeedAsync(rows);
        sweep.MoveTo(to);
        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        Assert.Equal((SweepRunOutcome.Swept, SweepRunner.LastClosed(to, new AnomalyOptions())), (run.Outcome, run.Checkpoint));
        return sweep.Responder.Findings;
    }

    /// <summary>A subject's baseline row for the hour-of-week of <paramref name="hour"/>, and its first sighting (default 30 days before).</summary>
    private static async Task BaselineAsync(TableStore tables, string subject, DateTimeOffset hour, double callsPerHour, double tokensPerHour = 0,
        DateTimeOffset? since = null)
    {
        var first = since ?? hour.AddDays(-30);
        var start = RollupPeriod.Containing(RollupLevel.Hour, hour).Start;
        var store = new BaselineStore(tables);
        await store.RecordSinceAsync([(subject, first)]);
        await store.WriteAsync([new Baseline(subject, Baseline.HourOfWeekOf(start), start, first, BaselineMethod.HourOfWeek, 4,
            new BaselineStat(callsPerHour, 0), new BaselineStat(tokensPerHour, 0), default)]);
    }

    /// <summary>A subject seen since <paramref name="since"/> with no row for any hour: its baseline is zero once warmed up.</summary>
    private static Task KnownSinceAsync(TableStore tables, string subject, DateTimeOffset since) =>
        new BaselineStore(tables).RecordSinceAsync([(subject, since)]);
}
