using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>error_rate</c>: a relay key whose calls the relay answered 5xx (its own 502/503/504 or the provider's passed on)
/// more than <see cref="AnomalyThresholds.ErrorRate"/> of the time, over at least
/// <see cref="AnomalyThresholds.ErrorRateMinCalls"/> calls. High once most calls fail (three times the threshold share).
/// </summary>
internal sealed class ErrorRateDetector : IWindowDetector
{
    private const double HighMultiple = 3;

    public string Name => Detectors.ErrorRate;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var thresholds = context.Options.For(key.Tenant, relayKeyId);
            if (key.Calls < thresholds.ErrorRateMinCalls)
                continue;
            var rate = (double)key.Errors / key.Calls;
            if (rate <= thresholds.ErrorRate)
                continue;
            findings.Add(context.NewFinding(Name, DetectionContext.RelayKeySubject(relayKeyId), key.Tenant, rate, thresholds.ErrorRate,
                rate >= Math.Min(1, thresholds.ErrorRate * HighMultiple) ? FindingSeverity.High : FindingSeverity.Medium,
                string.Create(CultureInfo.InvariantCulture, $"{key.Errors} of {key.Calls} calls answered 5xx ({rate:P0}; threshold {thresholds.ErrorRate:P0} of at least {thresholds.ErrorRateMinCalls})"),
                new Dictionary<string, string>
                {
                    ["calls"] = key.Calls.ToString(CultureInfo.InvariantCulture),
                    ["errors"] = key.Errors.ToString(CultureInfo.InvariantCulture),
                }));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
