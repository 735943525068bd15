using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Budgets;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Quotas;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// The sweep over five weeks, one closed window after another, as <c>SweepRunner</c> does it: the window's rows into a
/// <see cref="WindowTally"/>, every detector over it with the baselines of its hour, then what the closed-window sinks do
/// (rollups into the hour, known sources learnt, the next hour's baselines once an hour ends, leaving out the windows
/// raised as findings); the per-run checks after each window (budgets; provider usage once an hour has settled).
/// </summary>
internal sealed class Bench
{
    private readonly Population _population;
    private readonly Traffic _traffic;
    private readonly Injector _injector;
    private readonly AnomalyOptions _options;
    private readonly ShadowUsageOptions _shadow = new();
    private readonly IReadOnlyList<IWindowDetector> _detectors;
    private readonly MemoryKnownSources _known = new();
    private readonly MemoryBaselines _baselines;
    private readonly int _seed;

    // Budget: per relay key its daily budget, and the spend of the day so far (what the quotas' usage rows hold).
    private readonly Dictionary<string, long> _dailyBudgets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _monthlyBudgets = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Key, UsageWindowKind Kind, DateTimeOffset Start), long> _spent = [];
    // Shadow usage: what the relay sent on each provider key version per hour (the version cells of the rollup).
    private readonly Dictionary<(string Key, string Version, DateTimeOffset Hour), (long Calls, long Unbilled, long Tokens)> _relayHours = [];

    public Bench(Population population, List<Incident> incidents, int seed)
    {
        _population = population;
        _seed = seed;
        Incidents = incidents;
        _traffic = new Traffic(population, seed);
        _options = new AnomalyOptions();
        foreach (var tenant in population.Tenants.Where(t => t.TimeZoneId != "UTC"))
            _options.Tenants[tenant.Id] = new AnomalyTenantOverrides { TimeZone = tenant.TimeZoneId };
        _options.Tenants["t7"] = new AnomalyTenantOverrides { KnownSources = [Population.TenantBlock] };
        if (_options.ThresholdError() is { } error)
            throw new InvalidOperationException(error);
        _injector = new Injector(population, _options, seed);
        _baselines = new MemoryBaselines(_options.WarmUp);
        _known.SeedHistory(population);
        _detectors =
        [
            new VolumeDetector(), new TokensDetector(), new QuietHoursDetector(), new NewSourceDetector(new MemoryAllowList(population)),
            new AuthFailuresDetector(), new ErrorRateDetector(), new ProviderKeyRejectedDetector(),
        ];
    }

    public List<Incident> Incidents { get; }
    public Population Population => _population;
    /// <summary>Every finding by id (re-found ones keep the first), with the window index of the sweep that raised it.</summary>
    public Dictionary<string, (Finding Finding, int SweptWindow)> Findings { get; } = new(StringComparer.Ordinal);
    /// <summary>A relay key whose calls, tokens and baseline per window are written to stderr (<c>--trace</c>).</summary>
    public string? Trace { get; set; }
    public long NormalCalls { get; private set; }
    public long Rows { get; private set; }
    public int WindowsSwept { get; private set; }

    public async Task RunAsync(int windows)
    {
        SetBudgets();
        SetMonthlyBudgets(windows);
        var keyRows = _population.RelayKeys.Select(_ => new List<SweepRow>()).ToArray();
        var authRows = new List<SweepRow>();
        var raisedByHour = new Dictionary<DateTimeOffset, List<(string, DateTimeOffset)>>();
        var relayIncidents = Incidents.Where(i => !i.ProviderSide).ToList();
        BaselineHour? hourBaselines = null;
        for (var w = 0; w < windows; w++)
        {
            var window = Population.WindowAt(w);
            if (hourBaselines is null || hourBaselines.Hour != window.Start.AddTicks(-(window.Start.UtcTicks % TimeSpan.TicksPerHour)))
                hourBaselines = _baselines.Load(window.Start.AddTicks(-(window.Start.UtcTicks % TimeSpan.TicksPerHour)));

            foreach (var rows in keyRows)
                rows.Clear();
            authRows.Clear();
            foreach (var key in _population.RelayKeys)
                NormalCalls += _traffic.Generate(key, w, keyRows[key.Index]);
            _traffic.FailedAuthentications(w, authRows);
            foreach (var incident in relayIncidents)
            {
                if (w >= incident.StartWindow && w < incident.StartWindow + incident.Duration)
                    _injector.Inject(incident, w, keyRows, authRows, hourBaselines);
            }

            var tally = new WindowTally(window);
            foreach (var rows in keyRows)
            {
                foreach (var row in rows)
                    tally.Add(row);
            }
            foreach (var row in authRows)
                tally.Add(row);
            Rows += tally.Rows;
            if (Trace is { } traced && tally.RelayKeys.TryGetValue(traced, out var t))
            {
                var known = hourBaselines.TryGet(DetectionContext.RelayKeySubject(traced), out var b);
                Console.Error.WriteLine(FormattableString.Invariant($"{window.Start:yyyy-MM-ddTHH:mm} {window.Start.DayOfWeek} calls={t.Calls} tokens={t.Tokens} baseline={(known ? $"{b.Calls.Median:0.#}/{b.Tokens.Median:0}/{b.Samples}" : "warm-up")}"));
            }

            var now = window.End + _options.SettleDelay;
            var context = new DetectionContext
            {
                Tally = tally,
                WindowClosed = true,
                Now = now,
                Options = _options,
                Baselines = hourBaselines,
                KnownSources = _known,
                RunId = "bench",
            };
            foreach (var detector in _detectors)
            {
                foreach (var finding in await detector.DetectAsync(context, CancellationToken.None))
                    Raise(finding, w, raisedByHour);
            }

            // The closed-window sinks, in the sweep's order: rollups (here: the hour's subject totals), known sources, baselines.
            _baselines.Add(tally);
            _known.Learn(tally);
            CountVersions(tally);
            if (window.End.UtcTicks % TimeSpan.TicksPerHour == 0)
            {
                var raised = BaselineBuilder.SampleHours(window.End)
                    .SelectMany(h => raisedByHour.GetValueOrDefault(h) ?? []);
                _baselines.Update(window.End, raised);
            }

            // The per-run checks.
            JudgeBudgets(tally, window, now, w, raisedByHour);
            if (window.End.UtcTicks % TimeSpan.TicksPerHour == 0)
                JudgeShadowUsage(window.End, w, raisedByHour);
            WindowsSwept++;
        }
    }

    private void Raise(Finding finding, int sweptWindow, Dictionary<DateTimeOffset, List<(string, DateTimeOffset)>> raisedByHour)
    {
        if (!Findings.TryAdd(finding.Id, (finding, sweptWindow)))
            return;
        var hour = finding.WindowStart.AddTicks(-(finding.WindowStart.UtcTicks % TimeSpan.TicksPerHour));
        if (!raisedByHour.TryGetValue(hour, out var list))
            raisedByHour[hour] = list = [];
        list.Add((finding.Subject, finding.WindowStart));
    }

    /// <summary>
    /// Each budget incident's key gets a daily budget such that its day's whole spend (normal plus the incident's) is the
    /// incident's size times the 80 % level: just over it, or just under, whatever the day's normal traffic was.
    /// </summary>
    private void SetBudgets()
    {
        var scratch = new List<SweepRow>();
        foreach (var incident in Incidents.Where(i => i.Kind == "budget"))
        {
            var key = _population.Key(incident.Subject);
            var day = incident.Start.UtcDateTime.Date;
            var first = Population.IndexOf(new DateTimeOffset(day, TimeSpan.Zero));
            long normal = 0;
            for (var w = first; w < first + 288; w++)
            {
                scratch.Clear();
                _traffic.Generate(key, w, scratch);
                normal += scratch.Sum(r => (r.InputTokens ?? 0) + (r.OutputTokens ?? 0));
            }
            var perWindow = (long)Math.Ceiling(Math.Max(2 * normal, 100_000) / (double)incident.Duration);
            var extra = perWindow * incident.Duration;
            _injector.BudgetExtra[incident] = extra;
            var level = FuncKeyOps.Quotas.BudgetWarningWriter.Ratio;
            var budget = (long)Math.Round((normal + extra) / (incident.Size * level));
            _dailyBudgets[key.Id] = budget;
            incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
            incident.Record(normal + extra, budget * level, normal + extra >= budget * level);
        }
    }

    /// <summary>
    /// Each <c>budget_month</c> incident's key gets a monthly budget from its start such that the highest month-to-date
    /// projection the sweep will make (the same spend, the same clock, <c>BudgetCheck</c>'s straight line) is the
    /// incident's size times the budget: just over it, or never over it.
    /// </summary>
    private void SetMonthlyBudgets(int windows)
    {
        var scratch = new List<SweepRow>();
        foreach (var incident in Incidents.Where(i => i.Kind == "budget_month"))
        {
            var key = _population.Key(incident.Subject);
            var month = UsageWindow.Containing(UsageWindowKind.Month, incident.Start);
            var from = Math.Max(0, Population.IndexOf(month.Start));
            var to = Math.Min(windows, Population.IndexOf(month.End));
            // The surge: twice the spend of the incident's day, over its windows (as for daily budgets).
            long day = 0;
            var dayStart = Population.IndexOf(new DateTimeOffset(incident.Start.UtcDateTime.Date, TimeSpan.Zero));
            for (var w = dayStart; w < dayStart + 288; w++)
            {
                scratch.Clear();
                _traffic.Generate(key, w, scratch);
                day += scratch.Sum(r => (r.InputTokens ?? 0) + (r.OutputTokens ?? 0));
            }
            var perWindow = (long)Math.Ceiling(Math.Max(2 * day, 100_000) / (double)incident.Duration);
            _injector.BudgetExtra[incident] = perWindow * incident.Duration;
            long used = 0;
            long highest = 0;
            for (var w = from; w < to; w++)
            {
                scratch.Clear();
                _traffic.Generate(key, w, scratch);
                used += scratch.Sum(r => (r.InputTokens ?? 0) + (r.OutputTokens ?? 0));
                if (w >= incident.StartWindow && w < incident.StartWindow + incident.Duration)
                    used += perWindow;
                var now = Population.WindowAt(w).End + _options.SettleDelay;
                var elapsed = now - month.Start;
                if (w < incident.StartWindow || !month.Contains(now) || elapsed < _options.Thresholds.BudgetProjectionAfter || used <= 0)
                    continue;
                highest = Math.Max(highest, (long)Math.Ceiling(used * ((month.End - month.Start) / elapsed)));
            }
            var budget = incident.Size > 1 ? (long)Math.Floor(highest / incident.Size) : (long)Math.Ceiling(highest / incident.Size);
            _monthlyBudgets[key.Id] = budget;
            incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
            incident.Record(highest, budget, highest > budget);
        }
    }

    private void JudgeBudgets(WindowTally tally, SweepWindow window, DateTimeOffset now, int sweptWindow, Dictionary<DateTimeOffset, List<(string, DateTimeOffset)>> raisedByHour)
    {
        var context = new SweepContext { Now = now, Options = _options, LastClosedWindow = window };
        var findings = new List<Finding>();
        foreach (var (budgets, kind) in new[] { (_dailyBudgets, UsageWindowKind.Day), (_monthlyBudgets, UsageWindowKind.Month) })
        {
            var period = UsageWindow.Containing(kind, window.Start);
            foreach (var (id, budget) in budgets)
            {
                var spent = _spent.GetValueOrDefault((id, kind, period.Start)) + (tally.RelayKeys.TryGetValue(id, out var key) ? key.Tokens : 0);
                _spent[(id, kind, period.Start)] = spent;
                // A monthly budget is set at its incident's start: the sweep judges it from then on.
                if (kind == UsageWindowKind.Month && Incidents.First(i => i.Kind == "budget_month" && i.Subject == id).StartWindow > Population.IndexOf(window.Start))
                    continue;
                BudgetCheck.Judge(findings, context, new BudgetCheck.BudgetedKey(id, _population.Key(id).Tenant.Id), period, budget, spent);
            }
        }
        foreach (var finding in findings)
            Raise(finding, sweptWindow, raisedByHour);
    }

    private void CountVersions(WindowTally tally)
    {
        var hour = tally.Window.Start.AddTicks(-(tally.Window.Start.UtcTicks % TimeSpan.TicksPerHour));
        foreach (var ((name, version), key) in tally.ProviderKeys)
        {
            var (calls, unbilled, tokens) = _relayHours.GetValueOrDefault((name, version, hour));
            _relayHours[(name, version, hour)] = (calls + key.Calls, unbilled + key.Rejected, tokens + key.InputTokens + key.OutputTokens);
        }
    }

    /// <summary>
    /// Once an hour has settled (<see cref="ShadowUsageOptions.UsageSettle"/> after its end) each reporting provider key's
    /// versions are judged by the library's <see cref="ShadowJudgement"/>: the provider's report is what the relay sent
    /// less the refused attempts, tokens within ±1 % (its own counting), plus what a shadow incident used outside.
    /// </summary>
    private void JudgeShadowUsage(DateTimeOffset now, int sweptWindow, Dictionary<DateTimeOffset, List<(string, DateTimeOffset)>> raisedByHour)
    {
        var hour = now - _shadow.UsageSettle - UsageHours.Length;
        if (hour < Population.Start || hour.UtcTicks % TimeSpan.TicksPerHour != 0)
            return;
        foreach (var providerKey in _population.ProviderKeys.Where(k => k.Reports))
        {
            var config = new ProviderKeyConfig
            {
                Name = providerKey.Name,
                Provider = providerKey.Provider,
                BaseUrl = new Uri("https://provider.invalid/"),
                SecretName = providerKey.Name,
                Connector = providerKey.Provider,
            };
            foreach (var version in new[] { "v1", "v2" })
            {
                if (version == "v2" && hour + UsageHours.Length <= providerKey.RotatedAt)
                    continue;
                var revokedAt = version == "v1" && now >= providerKey.RevokedAt ? providerKey.RevokedAt : (DateTimeOffset?)null;
                var target = new ShadowTarget(config, version, $"key_{providerKey.Name}_{version}", $"key_{providerKey.Name}_{version}", revokedAt);
                var (calls, unbilled, tokens) = _relayHours.GetValueOrDefault((providerKey.Name, version, hour));
                var relay = new RelayHourUsage(calls, tokens, 0);
                var random = new Random(unchecked(_seed * 17 + providerKey.Index * 1_009 + (int)((hour - Population.Start).Ticks / TimeSpan.TicksPerHour) * 2 + (version == "v2" ? 1 : 0)));
                var reportedTokens = (long)Math.Round(tokens * (1 + (random.NextDouble() * 2 - 1) * 0.01));
                long? requests = providerKey.Provider == "anthropic" ? null : calls - unbilled;
                var provider = new ProviderHourUsage(requests, reportedTokens, 0);
                foreach (var incident in Incidents.Where(i => i.ProviderSide && i.Subject == providerKey.Name && hour >= Floor(i.Start) && hour < i.End))
                    provider = Shadow(incident, providerKey, version, hour, relay, provider);
                if (ShadowJudgement.Judge(target, hour, provider, relay, "settled", _shadow, now) is { } finding)
                    Raise(finding, sweptWindow, raisedByHour);
            }
        }
    }

    private ProviderHourUsage Shadow(Incident incident, ProviderKeyProfile key, string version, DateTimeOffset hour, RelayHourUsage relay, ProviderHourUsage normal)
    {
        if (incident.Kind == "retired_key_use")
        {
            // Use of the old version after its revoke: the relay sends nothing on it any more.
            if (version != "v1")
                return normal;
            incident.FindingSubject = $"provider-key:{key.Name}/v1";
            if (hour < key.RevokedAt)
            {
                incident.Note = "starts before the version was revoked";
                return normal;
            }
            var count = (long)incident.Target(0);
            incident.Record(count, 0, count > 0);
            return new ProviderHourUsage(key.Provider == "anthropic" ? null : (normal.Requests ?? 0) + count, normal.InputTokens + count * 1_000, normal.OutputTokens);
        }
        if (version != key.VersionAt(incident.Start))
            return normal;
        incident.FindingSubject = $"provider-key:{key.Name}/{version}";
        // The gap over both bounds, exactly: the provider's own counting noise is replaced in the incident's hours.
        var requestLimit = Math.Max(_shadow.ShadowMinRequests, _shadow.ShadowTolerancePercent * relay.Calls / 100);
        var tokenLimit = Math.Max(_shadow.ShadowMinTokens, _shadow.ShadowTolerancePercent * relay.TotalTokens / 100);
        var gapTokens = (long)incident.Target(tokenLimit);
        long? requests = key.Provider == "anthropic" ? null : relay.Calls + (long)incident.Target(requestLimit);
        incident.Record(incident.Size, 1, incident.Size > 1);
        return new ProviderHourUsage(requests, relay.TotalTokens + gapTokens, 0);
    }

    private static DateTimeOffset Floor(DateTimeOffset time) => time.AddTicks(-(time.UtcTicks % TimeSpan.TicksPerHour));
}
