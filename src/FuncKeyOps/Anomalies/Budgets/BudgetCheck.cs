using System.Globalization;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Budgets;

/// <summary>
/// <c>budget</c>, once per sweep run: each relay key's daily and monthly token budgets against what it has used, at
/// the 80 % warning the quotas record (<see cref="BudgetWarningWriter.Ratio"/>) and at 100 %, where the quotas
/// start refusing; and a month-to-date linear projection that crosses the monthly budget before the month ends.
/// </summary>
/// <remarks>
/// <para>
/// Spend is read from the quotas' own <c>usage</c> rows (<c>d{yyyyMMdd}</c>, <c>m{yyyyMM}</c>), not the sweep's
/// rollups: they are what the budget is enforced against (the 80 % warning and the refusals come from them), they are
/// current to the last flush rather than to the last closed window, and a call whose audit row was lost is still in them.
/// </para>
/// <para>
/// A finding's window is the budget's period (the day or the month) and its id names the budget and the level, so each
/// level is found once per budget and period however many runs see it (every run judges again; the responder stores a
/// known id once). It sorts in the findings list under the period's first day; <see cref="Finding.FoundAt"/> says when.
/// The periods judged are those of now and of the last closed window, so a crossing in a period's last minutes is
/// still found by the first run after it ended.
/// </para>
/// </remarks>
internal sealed class BudgetCheck(TableStore tables) : ISweepCheck
{
    private const double Full = 1.0;
    private static readonly string[] KeyColumns =
        ["RowKey", nameof(RelayKeyEntity.Tenant), nameof(RelayKeyEntity.DailyTokens), nameof(RelayKeyEntity.MonthlyTokens), nameof(RelayKeyEntity.Status)];

    public string Name => Detectors.Budget;

    public async Task<SweepCheckResult> RunAsync(SweepContext context, CancellationToken cancellationToken)
    {
        var now = context.Now;
        var findings = new List<Finding>();
        var relayKeys = await tables.GetTableAsync(TableNames.RelayKeys, cancellationToken).ConfigureAwait(false);
        var usage = await tables.GetTableAsync(TableNames.Usage, cancellationToken).ConfigureAwait(false);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.RelayKeyPartition}");
        await foreach (var key in relayKeys.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: KeyColumns, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var daily = key.GetInt64(nameof(RelayKeyEntity.DailyTokens));
            var monthly = key.GetInt64(nameof(RelayKeyEntity.MonthlyTokens));
            // A revoked key spends nothing more; a suspended one may be resumed, so its budget is still watched.
            if ((daily is null && monthly is null) || key.GetString(nameof(RelayKeyEntity.Status)) == RelayKeyEntity.StatusText(RelayKeyStatus.Revoked))
                continue;
            var budgeted = new BudgetedKey(key.RowKey, key.GetString(nameof(RelayKeyEntity.Tenant)));
            foreach (var (kind, budget) in new[] { (UsageWindowKind.Day, daily), (UsageWindowKind.Month, monthly) })
            {
                if (budget is not { } limit || limit <= 0)
                    continue;
                foreach (var period in Periods(kind, now, context.LastClosedWindow))
                {
                    var used = (await UsageRowMerger.ReadAsync(usage, budgeted.Id, period.RowKey, stamp: null, cancellationToken).ConfigureAwait(false)).Tokens;
                    Judge(findings, context, budgeted, period, limit, used);
                }
            }
        }
        return new SweepCheckResult { Findings = findings };
    }

    private static IEnumerable<UsageWindow> Periods(UsageWindowKind kind, DateTimeOffset now, SweepWindow lastClosed)
    {
        var current = UsageWindow.Containing(kind, now);
        var earlier = UsageWindow.Containing(kind, lastClosed.Start);
        return earlier == current ? [current] : [earlier, current];
    }

    // Internal, not private: bench/detect judges weeks of simulated spend with this very rule, without the usage table.
    internal static void Judge(List<Finding> findings, SweepContext context, BudgetedKey key, UsageWindow period, long budget, long used)
    {
        var thresholds = context.Options.For(key.Tenant, key.Id);
        var name = period.Kind == UsageWindowKind.Day ? "daily" : "monthly";
        if (used >= budget * Full)
        {
            findings.Add(New(context, key, period, "100", used, budget, FindingSeverity.Medium,
                string.Create(CultureInfo.InvariantCulture, $"{used} tokens used of the {name} budget of {budget} ({Share(used, budget)}): the relay refuses the key until {period.End:yyyy-MM-dd HH:mm} UTC")));
        }
        if (used >= budget * BudgetWarningWriter.Ratio)
        {
            findings.Add(New(context, key, period, "80", used, budget * BudgetWarningWriter.Ratio, FindingSeverity.Low,
                string.Create(CultureInfo.InvariantCulture, $"{used} tokens used of the {name} budget of {budget} ({Share(used, budget)}; warning at {BudgetWarningWriter.Ratio:P0})")));
        }
        if (period.Kind != UsageWindowKind.Month || used >= budget || !period.Contains(context.Now))
            return;
        var elapsed = context.Now - period.Start;
        if (elapsed < thresholds.BudgetProjectionAfter || used <= 0)
            return;
        var projected = (long)Math.Ceiling(used * ((period.End - period.Start) / elapsed));
        if (projected <= budget)
            return;
        // Where the straight line crosses the budget: what an operator has left to act in.
        var crossing = period.Start + elapsed * ((double)budget / used);
        findings.Add(New(context, key, period, "projected", projected, budget, FindingSeverity.Low,
            string.Create(CultureInfo.InvariantCulture,
                $"{used} tokens used of the monthly budget of {budget} in {elapsed.TotalDays:0.#} days; at this rate {projected} by the month's end, crossing the budget about {crossing:yyyy-MM-dd HH:mm} UTC"),
            ("projectedCrossing", crossing.UtcDateTime.ToString("O", CultureInfo.InvariantCulture))));
    }

    private static Finding New(SweepContext context, BudgetedKey key, UsageWindow period, string level, double observed, double threshold,
        FindingSeverity severity, string summary, params (string Name, string Value)[] extra)
    {
        var subject = DetectionContext.RelayKeySubject(key.Id);
        var details = new Dictionary<string, string>
        {
            ["period"] = period.RowKey,
            ["level"] = level,
        };
        foreach (var (name, value) in extra)
            details[name] = value;
        return new Finding
        {
            Id = IdOf(subject, period, level),
            Detector = Detectors.Budget,
            Subject = subject,
            WindowStart = period.Start,
            WindowEnd = period.End,
            Tenant = key.Tenant,
            Observed = observed,
            Threshold = threshold,
            Severity = severity,
            Summary = summary,
            FoundAt = context.Now,
            Details = details,
        };
    }

    /// <summary>One per relay key, budget period (<c>d20261207</c>, <c>m202612</c>) and level (<c>80</c>, <c>100</c>, <c>projected</c>).</summary>
    internal static string IdOf(string subject, UsageWindow period, string level) =>
        FindingId.For(Detectors.Budget, $"{subject}|{period.RowKey}|{level}", period.Start);

    private static string Share(long used, long budget) => ((double)used / budget).ToString("P0", CultureInfo.InvariantCulture);

    internal sealed record BudgetedKey(string Id, string? Tenant);
}
