using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>tokens</c>: a relay key's input plus output tokens in a window over <see cref="AnomalyThresholds.TokensPerWindow"/>
/// (absolute: fires in the warm-up too), or over <see cref="AnomalyThresholds.TokensMultiple"/> times its baseline
/// (median tokens per window of that hour) with at least <see cref="AnomalyThresholds.TokensMinForMultiple"/> (relative:
/// silent in the warm-up). One finding per key and window (one id) when both parts fire: the absolute one, since its
/// bound means the same for every key; the baseline goes on it whenever there is one.
/// </summary>
internal sealed class TokensDetector : IWindowDetector
{
    public string Name => Detectors.Tokens;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var thresholds = context.Options.For(key.Tenant, relayKeyId);
            var subject = DetectionContext.RelayKeySubject(relayKeyId);
            double? median = context.Baselines.TryGet(subject, out var expected) ? expected.Tokens.Median : null;
            double threshold;
            string bound;
            if (key.Tokens > thresholds.TokensPerWindow)
            {
                threshold = thresholds.TokensPerWindow;
                bound = string.Create(CultureInfo.InvariantCulture, $"threshold {thresholds.TokensPerWindow}");
            }
            else if (median is { } usual && key.Tokens >= thresholds.TokensMinForMultiple && key.Tokens > thresholds.TokensMultiple * usual)
            {
                threshold = Math.Max(thresholds.TokensMultiple * usual, thresholds.TokensMinForMultiple);
                bound = string.Create(CultureInfo.InvariantCulture,
                    $"threshold {threshold:0.#}: over {thresholds.TokensMultiple:0.#}x the usual {usual:0.#} and at least {thresholds.TokensMinForMultiple}");
            }
            else
            {
                continue;
            }
            findings.Add(context.NewFinding(Name, subject, key.Tenant, key.Tokens, threshold,
                Severity.ByMultiple(key.Tokens, threshold),
                string.Create(CultureInfo.InvariantCulture, $"{key.Tokens} tokens in 5 minutes over {key.Calls} calls ({bound})"),
                new Dictionary<string, string>
                {
                    ["inputTokens"] = key.InputTokens.ToString(CultureInfo.InvariantCulture),
                    ["outputTokens"] = key.OutputTokens.ToString(CultureInfo.InvariantCulture),
                    ["calls"] = key.Calls.ToString(CultureInfo.InvariantCulture),
                },
                baseline: median));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
