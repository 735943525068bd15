using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>volume</c>: a relay key's calls in a window over <see cref="AnomalyThresholds.VolumeMultiple"/> times its baseline
/// (median calls per window of that hour) and over <see cref="AnomalyThresholds.VolumeMinCalls"/>. Silent for a key
/// still in its warm-up: without a baseline there is nothing to be a multiple of.
/// </summary>
/// <remarks>
/// Provider keys too, per version (<c>provider-key:{name}/{version}</c>, the subject a rotation acts on), with the global
/// thresholds (a provider key serves many tenants' relay keys) against the key's baseline over all its versions: it is
/// the same tally and lookup, so it costs nothing, and it catches a flood spread over many relay keys that each stay
/// under their own bound. Attempts count, failed ones included, as the provider key's rollups count them.
/// </remarks>
internal sealed class VolumeDetector : IWindowDetector
{
    public string Name => Detectors.Volume;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (Judge(context, DetectionContext.RelayKeySubject(relayKeyId), key.Tenant, key.Calls, context.Options.For(key.Tenant, relayKeyId)) is { } finding)
                findings.Add(finding);
        }
        foreach (var ((name, version), key) in context.Tally.ProviderKeys.OrderBy(k => k.Key.Name, StringComparer.Ordinal).ThenBy(k => k.Key.Version, StringComparer.Ordinal))
        {
            if (Judge(context, DetectionContext.ProviderKeySubject(name, version), tenant: null, key.Calls, context.Options.Thresholds) is { } finding)
                findings.Add(finding);
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }

    private Finding? Judge(DetectionContext context, string subject, string? tenant, long calls, AnomalyThresholds thresholds)
    {
        if (calls <= thresholds.VolumeMinCalls || !context.Baselines.TryGet(subject, out var expected))
            return null;
        var median = expected.Calls.Median;
        if (calls <= thresholds.VolumeMultiple * median)
            return null;
        var threshold = Math.Max(thresholds.VolumeMultiple * median, thresholds.VolumeMinCalls);
        return context.NewFinding(Name, subject, tenant, calls, threshold, Severity.ByMultiple(calls, threshold),
            string.Create(CultureInfo.InvariantCulture,
                $"{calls} calls in 5 minutes against a usual {median:0.#} (threshold {threshold:0.#}: over {thresholds.VolumeMultiple:0.#}x the baseline and over {thresholds.VolumeMinCalls})"),
            new Dictionary<string, string>
            {
                ["baselineMad"] = expected.Calls.Mad.ToString("0.###", CultureInfo.InvariantCulture),
                ["baselineSamples"] = expected.Samples.ToString(CultureInfo.InvariantCulture),
            },
            baseline: median);
    }
}
