using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>quiet_hours</c>: more than <see cref="AnomalyThresholds.QuietHoursMinCalls"/> calls of a relay key in a window that
/// starts in the quiet hours (<see cref="AnomalyThresholds.QuietHoursStart"/> to <see cref="AnomalyThresholds.QuietHoursEnd"/>
/// on the clock of the key's tenant, <see cref="AnomalyOptions.TimeZoneFor"/>), from a key whose baseline for that hour
/// is under <see cref="AnomalyThresholds.QuietHoursBaselineShare"/> of the calls: a key that sleeps at night and does not
/// tonight. A key that works nights has the baseline to show it. Silent for a key still in its warm-up.
/// </summary>
internal sealed class QuietHoursDetector : IWindowDetector
{
    public string Name => Detectors.QuietHours;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var thresholds = context.Options.For(key.Tenant, relayKeyId);
            if (key.Calls <= thresholds.QuietHoursMinCalls)
                continue;
            // The tenant's clock, offset of that very instant: the same UTC window is 02:00 in winter and 03:00 in summer in Berlin.
            var zone = context.Options.TimeZoneFor(key.Tenant);
            var local = TimeZoneInfo.ConvertTime(context.Window.Start, zone);
            if (!thresholds.InQuietHours(local.TimeOfDay))
                continue;
            var subject = DetectionContext.RelayKeySubject(relayKeyId);
            if (!context.Baselines.TryGet(subject, out var expected))
                continue;
            // "Baseline under a share of the calls" is "calls over the baseline divided by the share": one bound, the one reported.
            var median = expected.Calls.Median;
            var threshold = Math.Max(thresholds.QuietHoursMinCalls, median / thresholds.QuietHoursBaselineShare);
            if (key.Calls <= threshold)
                continue;
            findings.Add(context.NewFinding(Name, subject, key.Tenant, key.Calls, threshold, Severity.ByMultiple(key.Calls, threshold),
                string.Create(CultureInfo.InvariantCulture,
                    $"{key.Calls} calls in 5 minutes at {local:HH:mm} {zone.Id} against a usual {median:0.#} (threshold {threshold:0.#}: over {thresholds.QuietHoursMinCalls} and over the baseline divided by {thresholds.QuietHoursBaselineShare:0.###})"),
                new Dictionary<string, string>
                {
                    ["localTime"] = local.ToString("yyyy-MM-ddTHH:mmzzz", CultureInfo.InvariantCulture),
                    ["timeZone"] = zone.Id,
                    ["baselineSamples"] = expected.Samples.ToString(CultureInfo.InvariantCulture),
                },
                baseline: median));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
