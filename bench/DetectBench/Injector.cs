using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Detection;

namespace FuncKeyOps.Bench.DetectBench;

/// <summary>
/// Adds an incident's rows to a window's normal rows, sized against the threshold in force (the library's settings and
/// the baseline the detectors will read), and records whether it went over. The harness computes the bound only to place
/// the incident just over or just under it; whether anything is found is the detectors' own judgement.
/// </summary>
internal sealed class Injector(Population population, AnomalyOptions options, int seed)
{
    private const string Rejected = "provider_key_rejected";

    /// <param name="keyRows">Each relay key's rows of the window (normal ones, then what incidents add).</param>
    /// <param name="authRows">The window's failed authentications.</param>
    public void Inject(Incident incident, int windowIndex, List<SweepRow>[] keyRows, List<SweepRow> authRows, BaselineHour baselines)
    {
        var window = Population.WindowAt(windowIndex);
        var random = new Random(unchecked(seed * 31 + incident.Line * 7_919 + windowIndex));
        switch (incident.Kind)
        {
            case "volume" when incident.Subject.StartsWith("pk", StringComparison.Ordinal):
            {
                // A flood on a provider key spread over its relay keys, each staying under its own bound: the provider
                // key's own volume (global thresholds, its baseline over all versions) is what finds it.
                var providerKey = population.ProviderKey(incident.Subject);
                incident.FindingSubject = DetectionContext.ProviderKeySubject(providerKey.Name, providerKey.VersionAt(window.Start));
                if (!baselines.TryGet(incident.FindingSubject, out var expected))
                {
                    incident.Note = "no baseline (warm-up)";
                    return;
                }
                var threshold = Math.Max(options.Thresholds.VolumeMultiple * expected.Calls.Median, options.Thresholds.VolumeMinCalls);
                var callers = population.RelayKeys.Where(k => k.ProviderKey == providerKey && Traffic.Mean(k, window) > 0).ToList();
                var current = callers.Sum(k => keyRows[k.Index].Count);
                var target = (int)incident.Target(threshold);
                if (target < current)
                {
                    incident.Note = $"normal traffic {current} already over the target {target}";
                    return;
                }
                for (var i = 0; current < target; i++, current++)
                    keyRows[callers[i % callers.Count].Index].Add(Traffic.Call(callers[i % callers.Count], window, random));
                incident.Record(target, threshold, target > threshold);
                return;
            }
            case "volume":
            case "quiet_hours":
            {
                var key = population.Key(incident.Subject);
                var rows = keyRows[key.Index];
                incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
                if (!baselines.TryGet(incident.FindingSubject, out var expected))
                {
                    incident.Note = "no baseline (warm-up)";
                    return;
                }
                var thresholds = options.For(key.Tenant.Id, key.Id);
                double threshold;
                if (incident.Kind == "volume")
                {
                    threshold = Math.Max(thresholds.VolumeMultiple * expected.Calls.Median, thresholds.VolumeMinCalls);
                }
                else
                {
                    var local = TimeZoneInfo.ConvertTime(window.Start, options.TimeZoneFor(key.Tenant.Id));
                    if (!thresholds.InQuietHours(local.TimeOfDay))
                    {
                        incident.Note = $"not in the quiet hours ({local:HH:mm} local)";
                        return;
                    }
                    threshold = Math.Max(thresholds.QuietHoursMinCalls, expected.Calls.Median / thresholds.QuietHoursBaselineShare);
                }
                var target = (int)incident.Target(threshold);
                if (target < rows.Count)
                {
                    incident.Note = $"normal traffic {rows.Count} already over the target {target}";
                    return;
                }
                while (rows.Count < target)
                    rows.Add(Traffic.Call(key, window, random));
                incident.Record(target, threshold, target > threshold);
                return;
            }
            case "tokens":
            {
                var key = population.Key(incident.Subject);
                var rows = keyRows[key.Index];
                incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
                var thresholds = options.For(key.Tenant.Id, key.Id);
                var threshold = baselines.TryGet(incident.FindingSubject, out var expected)
                    ? Math.Min(thresholds.TokensPerWindow, Math.Max(thresholds.TokensMultiple * expected.Tokens.Median, thresholds.TokensMinForMultiple))
                    : thresholds.TokensPerWindow;
                var target = (long)incident.Target(threshold);
                var normal = rows.Sum(r => (r.InputTokens ?? 0) + (r.OutputTokens ?? 0));
                if (target < normal)
                {
                    incident.Note = $"normal tokens {normal} already over the target {target}";
                    return;
                }
                // Five long calls carry the extra tokens, exactly.
                var extra = target - normal;
                for (var i = 0; i < 5; i++)
                {
                    var share = extra / 5 + (i == 0 ? extra % 5 : 0);
                    rows.Add(Traffic.Call(key, window, random) with { InputTokens = share, OutputTokens = 0 });
                }
                incident.Record(target, threshold, target > threshold);
                return;
            }
            case "new_source":
            case "new_source_spread":
            {
                var key = population.Key(incident.Subject);
                var rows = keyRows[key.Index];
                incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
                var thresholds = options.For(key.Tenant.Id, key.Id);
                var spread = incident.Kind == "new_source_spread";
                double threshold = spread ? thresholds.NewSourceSpreadCalls : thresholds.NewSourceMinCalls;
                var target = (int)incident.Target(threshold);
                for (var i = 0; i < target; i++)
                {
                    // One new address (an IPv6 caller: one new /64, any address in it); or many with five calls each.
                    var source = spread ? $"172.16.{incident.Line % 250}.{1 + i / 5}"
                        : key.Sources == SourceKind.Ipv6Rotating ? $"2001:db8:ffff:{incident.Line:x}:{random.Next(1, 0xffff):x}::{random.Next(1, 0xffff):x}"
                        : $"203.0.113.{incident.Line % 250}";
                    rows.Add(Traffic.Call(key, window, random, source));
                }
                incident.Record(target, threshold, target > threshold);
                return;
            }
            case "auth_failures":
            {
                incident.FindingSubject = DetectionContext.SourceSubject(FuncKeyOps.Anomalies.Sweep.SourceKey.Of(incident.Subject));
                double threshold = options.Thresholds.AuthFailuresPerSource;
                var target = (int)incident.Target(threshold);
                var already = authRows.Count(r => r.SourceIp == incident.Subject);
                for (var i = already; i < target; i++)
                    authRows.Add(Traffic.FailedAuthentication(window, incident.Subject, random));
                incident.Record(Math.Max(target, already), threshold, Math.Max(target, already) > threshold);
                return;
            }
            case "auth_failures_total":
            {
                incident.FindingSubject = DetectionContext.AllSourcesSubject;
                double threshold = options.Thresholds.AuthFailuresTotal;
                var target = (int)incident.Target(threshold);
                // Ten from each address: under the per-source bound, so only the total can find it.
                for (var i = authRows.Count; i < target; i++)
                    authRows.Add(Traffic.FailedAuthentication(window, $"198.51.{100 + incident.Line % 100}.{1 + i / 10}", random));
                incident.Record(authRows.Count, threshold, authRows.Count > threshold);
                return;
            }
            case "error_rate":
            {
                var key = population.Key(incident.Subject);
                var rows = keyRows[key.Index];
                incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
                var thresholds = options.For(key.Tenant.Id, key.Id);
                // An outage on a busy key: at least twice the calls the rule needs.
                while (rows.Count < 2 * thresholds.ErrorRateMinCalls)
                    rows.Add(Traffic.Call(key, window, random));
                var share = incident.Size * thresholds.ErrorRate;
                var wanted = (int)Math.Floor(share * rows.Count) + (incident.Size > 1 ? 1 : 0);
                var errors = rows.Count(r => r.Status >= 500);
                for (var i = 0; i < rows.Count && errors != wanted; i++)
                {
                    var failing = rows[i].Status >= 500;
                    if (!failing && errors < wanted)
                    {
                        rows[i] = rows[i] with { Status = 502, ErrorCode = "upstream_error", UpstreamStatus = 500, InputTokens = null, OutputTokens = null };
                        errors++;
                    }
                    else if (failing && errors > wanted)
                    {
                        rows[i] = rows[i] with { Status = 200, ErrorCode = null, UpstreamStatus = 200, InputTokens = (long)key.TokensPerCall, OutputTokens = 0 };
                        errors--;
                    }
                }
                var rate = (double)errors / rows.Count;
                incident.Record(rate, thresholds.ErrorRate, rate > thresholds.ErrorRate);
                return;
            }
            case "provider_key_rejected":
            {
                var providerKey = population.ProviderKey(incident.Subject);
                var version = providerKey.VersionAt(window.Start);
                incident.FindingSubject = DetectionContext.ProviderKeySubject(providerKey.Name, version);
                var caller = population.RelayKeys.First(k => k.ProviderKey == providerKey && Traffic.Mean(k, window) > 0);
                var count = (int)incident.Target(0);
                // Failed attempts: the provider refused the version, another answered the call.
                for (var i = 0; i < count; i++)
                {
                    keyRows[caller.Index].Add(Traffic.Call(caller, window, random) with
                    {
                        Status = 502, ErrorCode = Rejected, UpstreamStatus = 401, InputTokens = null, OutputTokens = null, Attempt = 1, IsFailedAttempt = true,
                    });
                }
                incident.Record(count, 0, count > 0);
                return;
            }
            case "budget":
            case "budget_month":
            {
                // The budget was set ahead (Bench.SetBudgets); here the runaway spend: ten heavy calls a window.
                var key = population.Key(incident.Subject);
                incident.FindingSubject = DetectionContext.RelayKeySubject(key.Id);
                var perWindow = (long)Math.Ceiling(BudgetExtra[incident] / (double)incident.Duration);
                for (var i = 0; i < 10; i++)
                    keyRows[key.Index].Add(Traffic.Call(key, window, random) with { InputTokens = perWindow / 10 + (i == 0 ? perWindow % 10 : 0), OutputTokens = 0 });
                return;
            }
            default:
                throw new InvalidOperationException($"{incident.Kind} is not injected into the relay's rows");
        }
    }

    /// <summary>The extra tokens each budget incident spends over its duration, set with its budget.</summary>
    public Dictionary<Incident, long> BudgetExtra { get; } = [];
}
