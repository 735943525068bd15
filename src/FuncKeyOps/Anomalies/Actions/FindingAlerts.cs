using System.Globalization;
using FuncKeyOps.Alerts;

namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// A finding's one alert: kind <c>anomaly.{detector}</c>, its subject, its summary and what was done about it, deduplicated
/// by the finding id, so a window swept again or a retry after a crash sends nothing more. Names and numbers only:
/// a finding holds no secret, and nothing else goes in.
/// </summary>
internal static class FindingAlerts
{
    public const string KindPrefix = "anomaly.";

    public static Alert For(Finding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["findingId"] = finding.Id,
            ["detector"] = finding.Detector,
            ["severity"] = finding.Severity.ToString().ToLowerInvariant(),
            ["windowStart"] = finding.WindowStart.ToString("O", CultureInfo.InvariantCulture),
            ["windowEnd"] = finding.WindowEnd.ToString("O", CultureInfo.InvariantCulture),
            ["observed"] = finding.Observed.ToString(CultureInfo.InvariantCulture),
            ["threshold"] = finding.Threshold.ToString(CultureInfo.InvariantCulture),
            ["action"] = finding.Action.ToString().ToLowerInvariant(),
            ["actionState"] = finding.ActionState.ToString().ToLowerInvariant(),
        };
        if (finding.Baseline is { } baseline)
            details["baseline"] = baseline.ToString(CultureInfo.InvariantCulture);
        if (finding.Tenant is { } tenant)
            details["tenant"] = tenant;
        foreach (var (key, value) in finding.Details ?? new Dictionary<string, string>())
            details.TryAdd(key, value);
        var message = finding.ActionOutcome is { Length: > 0 } outcome ? $"{finding.Summary} {outcome}" : finding.Summary;
        return new Alert(KindPrefix + finding.Detector, finding.Subject, message, finding.Id, finding.FoundAt, details);
    }
}
