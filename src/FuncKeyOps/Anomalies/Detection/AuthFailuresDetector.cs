using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>auth_failures</c>: failed relay-key authentications (audit <c>invalid_relay_key</c>) over
/// <see cref="AnomalyThresholds.AuthFailuresPerSource"/> from one source, or over
/// <see cref="AnomalyThresholds.AuthFailuresTotal"/> from all together: key guessing, from one address or spread over
/// many, or a revoked or suspended key still deployed somewhere. Global thresholds: such a row belongs to no relay key.
/// </summary>
internal sealed class AuthFailuresDetector : IWindowDetector
{
    public string Name => Detectors.AuthFailures;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var thresholds = context.Options.Thresholds;
        var findings = new List<Finding>();
        foreach (var (source, failures) in context.Tally.FailedAuthBySource.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (failures <= thresholds.AuthFailuresPerSource)
                continue;
            findings.Add(context.NewFinding(Name, DetectionContext.SourceSubject(source), tenant: null, failures, thresholds.AuthFailuresPerSource,
                Severity.ByMultiple(failures, thresholds.AuthFailuresPerSource),
                string.Create(CultureInfo.InvariantCulture, $"{failures} failed relay-key authentications from {source} in 5 minutes (threshold {thresholds.AuthFailuresPerSource})")));
        }
        var total = context.Tally.FailedAuthentications;
        if (total > thresholds.AuthFailuresTotal)
        {
            findings.Add(context.NewFinding(Name, DetectionContext.AllSourcesSubject, tenant: null, total, thresholds.AuthFailuresTotal,
                Severity.ByMultiple(total, thresholds.AuthFailuresTotal),
                string.Create(CultureInfo.InvariantCulture, $"{total} failed relay-key authentications from {context.Tally.FailedAuthBySource.Count} sources in 5 minutes (threshold {thresholds.AuthFailuresTotal})"),
                new Dictionary<string, string> { ["sources"] = context.Tally.FailedAuthBySource.Count.ToString(CultureInfo.InvariantCulture) }));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
