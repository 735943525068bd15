using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>tokens</c>, its absolute part: a relay key's input plus output tokens in a window over
/// <see cref="AnomalyThresholds.TokensPerWindow"/>. The relative part (over 5x the baseline with at least 100,000)
/// belongs here too once baselines exist: it reads <see cref="DetectionContext.Baselines"/> with the same subject.
/// </summary>
internal sealed class TokensDetector : IWindowDetector
{
    public string Name => Detectors.Tokens;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var threshold = context.Options.For(key.Tenant, relayKeyId).TokensPerWindow;
            if (key.Tokens <= threshold)
                continue;
            findings.Add(context.NewFinding(Name, DetectionContext.RelayKeySubject(relayKeyId), key.Tenant, key.Tokens, threshold,
                Severity.ByMultiple(key.Tokens, threshold),
                string.Create(CultureInfo.InvariantCulture, $"{key.Tokens} tokens in 5 minutes over {key.Calls} calls (threshold {threshold})"),
                new Dictionary<string, string>
                {
                    ["inputTokens"] = key.InputTokens.ToString(CultureInfo.InvariantCulture),
                    ["outputTokens"] = key.OutputTokens.ToString(CultureInfo.InvariantCulture),
                    ["calls"] = key.Calls.ToString(CultureInfo.InvariantCulture),
                }));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
