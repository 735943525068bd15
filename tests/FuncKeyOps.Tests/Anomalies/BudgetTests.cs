using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Budgets;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// <c>budget</c>: relay keys' spend as the quotas store it (through the real <see cref="QuotaGate"/> and its flush),
/// judged by the sweep's per-run check at 80 %, 100 % and by the month-to-date projection, with near misses.
/// </summary>
public class BudgetTests
{
    // The sweep's clock at its second run: 2026-03-10 10:06 UTC, 9 days 10 h 6 min into a 31-day month.
    [Fact]
    public async Task Budgets_at_80_and_100_percent_and_a_projection_past_the_monthly_budget_are_found_once_and_near_misses_are_not()
    {
        await using var sweep = await NewSourceHarness.CreateAsync(new Dictionary<string, string?>
        {
            ["Anomalies:Tenants:tenant-late:BudgetProjectionAfter"] = "10.00:00:00",
        });
        var spend = new Dictionary<string, (long? Daily, long? Monthly, long Used, string Tenant)>
        {
            ["rk-day100"] = (1_000, null, 1_000, "tenant-a"),      // 100 % and 80 % of the day
            ["rk-day99"] = (1_000, null, 999, "tenant-a"),         // 80 % only
            ["rk-day79"] = (1_000, null, 799, "tenant-a"),         // nothing
            ["rk-month80"] = (null, 1_000, 800, "tenant-a"),       // 80 % of the month, and projected past it
            ["rk-proj"] = (null, 10_000, 3_100, "tenant-a"),       // projected 10,201 by the month's end
            ["rk-projmiss"] = (null, 10_000, 3_000, "tenant-a"),   // projected 9,872: nothing
            ["rk-late"] = (null, 10_000, 3_100, "tenant-late"),    // as rk-proj, but its tenant projects after 10 days only
            ["rk-free"] = (null, null, 50_000, "tenant-a"),        // no budget
        };
        var gate = new QuotaGate(sweep.Tables, Options.Create(new QuotaOptions()), sweep.Time, NullLogger<QuotaGate>.Instance);
        foreach (var (id, (daily, monthly, used, tenant)) in spend)
        {
            await NewSourceHarness.StoreRelayKeyAsync(sweep, id, tenant, dailyTokens: daily, monthlyTokens: monthly);
            gate.Record(QuotaSubject.Of(new RelayKey { Id = id, Tenant = tenant, Name = id, DailyTokens = daily, MonthlyTokens = monthly }), new TokenUsage(used, 0));
        }
        Assert.True(await gate.FlushAsync());

        await sweep.SweepFirstWindowAsync([]);
        var budget = sweep.Responder.Findings.Where(f => f.Detector == Detectors.Budget).ToList();
        var ids = budget.Select(f => f.Id).ToHashSet();

        var day = new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero);
        var month = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(
            [
                ("relay-key:rk-day100", "d20260310", "100", 1_000.0, 1_000.0, FindingSeverity.Medium, day),
                ("relay-key:rk-day100", "d20260310", "80", 1_000.0, 800.0, FindingSeverity.Low, day),
                ("relay-key:rk-day99", "d20260310", "80", 999.0, 800.0, FindingSeverity.Low, day),
                ("relay-key:rk-month80", "m202603", "80", 800.0, 800.0, FindingSeverity.Low, month),
                ("relay-key:rk-month80", "m202603", "projected", 2_633.0, 1_000.0, FindingSeverity.Low, month),
                ("relay-key:rk-proj", "m202603", "projected", 10_201.0, 10_000.0, FindingSeverity.Low, month),
            ],
            // Each run judges again (the first run too, at 10:02:30): the second run's figures.
            budget.AsEnumerable().Reverse().DistinctBy(f => f.Id).Select(f => (f.Subject, f.Details!["period"], f.Details["level"], f.Observed, f.Threshold, f.Severity, f.WindowStart))
                .OrderBy(f => f.Subject, StringComparer.Ordinal).ThenBy(f => f.Item3, StringComparer.Ordinal));
        Assert.All(budget, f => Assert.Equal(
            BudgetCheck.IdOf(f.Subject, UsageWindow.Containing(f.Details!["period"][0] == 'd' ? UsageWindowKind.Day : UsageWindowKind.Month, f.WindowStart), f.Details["level"]), f.Id));

        // Another run later the same day finds the same findings again, by the same ids: nothing new to store.
        sweep.MoveTo(sweep.Time.GetUtcNow().AddMinutes(30));
        var before = sweep.Responder.Findings.Count;
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        var again = sweep.Responder.Findings.Skip(before).Where(f => f.Detector == Detectors.Budget).Select(f => f.Id).ToHashSet();
        Assert.Equal(ids.Order(), again.Order());
    }

    [Fact]
    public async Task A_days_crossing_just_before_midnight_is_found_by_the_first_run_after_it()
    {
        await using var sweep = await NewSourceHarness.CreateAsync();
        await NewSourceHarness.StoreRelayKeyAsync(sweep, "rk-midnight", dailyTokens: 1_000);
        await sweep.SweepFirstWindowAsync([]);
        // 23:58: the day's budget is crossed; the next run is at 00:03, in the next day.
        sweep.MoveTo(new DateTimeOffset(2026, 3, 10, 23, 58, 0, TimeSpan.Zero));
        var gate = new QuotaGate(sweep.Tables, Options.Create(new QuotaOptions()), sweep.Time, NullLogger<QuotaGate>.Instance);
        gate.Record(QuotaSubject.Of(new RelayKey { Id = "rk-midnight", Tenant = "tenant-a", Name = "rk-midnight", DailyTokens = 1_000 }), new TokenUsage(1_200, 0));
        Assert.True(await gate.FlushAsync());
        sweep.MoveTo(new DateTimeOffset(2026, 3, 11, 0, 3, 0, TimeSpan.Zero));
        var before = sweep.Responder.Findings.Count;

        // Catching up from 10:05 takes a few runs of 24 windows; the check runs at the end of each.
        for (var i = 0; i < 12; i++)
            await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal(["100", "80"], sweep.Responder.Findings.Skip(before).Where(f => f.Detector == Detectors.Budget)
            .Where(f => f.Details!["period"] == "d20260310").Select(f => f.Details!["level"]).Distinct().Order(StringComparer.Ordinal));
    }
}
