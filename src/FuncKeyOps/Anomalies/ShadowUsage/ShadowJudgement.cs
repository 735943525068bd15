using System.Globalization;
using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>One key version the provider reports on: the finding's subject and what its report is keyed by.</summary>
/// <param name="RevokedAt">When the version was revoked, if it was; from then on any provider-reported use of it is a leak.</param>
internal sealed record ShadowTarget(ProviderKeyConfig Key, string Version, string ProviderKeyId, string UsageKeyId, DateTimeOffset? RevokedAt)
{
    public string Subject => $"provider-key:{Key.Name}/{Version}";
}

/// <summary>
/// Sets one hour of a provider's report for a key version against the relay's own use of that version.
/// Excess = provider minus relay, in requests (where the report counts them) and in tokens:
/// <list type="bullet">
/// <item><c>shadow_usage</c> when either excess is over max(floor, tolerance % of the relay's): use the relay never sent,
/// so the key is used from outside it. High severity when the provider's count is over <see cref="ShadowUsageOptions.ShadowHighMultiple"/>
/// times the relay's (all of it, when the relay sent nothing).</item>
/// <item><c>retired_key_use</c>, always high, for any excess in an hour that starts at or after the version was revoked: a
/// revoked key has no legitimate use, so no tolerance applies. The hour holding the revoke itself is judged as
/// <c>shadow_usage</c>, since the relay may rightly have used the version until the revoke.</item>
/// </list>
/// Less than the relay's (refused or failed attempts the provider did not bill) is never a finding.
/// </summary>
internal static class ShadowJudgement
{
    public static Finding? Judge(ShadowTarget target, DateTimeOffset hour, ProviderHourUsage provider, RelayHourUsage relay, string judged,
        ShadowUsageOptions options, DateTimeOffset now)
    {
        var gapRequests = provider.Requests - relay.Calls;
        var gapTokens = provider.TotalTokens - relay.TotalTokens;

        if (target.RevokedAt is { } revokedAt && hour >= revokedAt)
        {
            if (gapRequests is not > 0 && gapTokens <= 0)
                return null;
            var byRequests = gapRequests is > 0;
            return Build(Detectors.RetiredKeyUse, target, hour, provider, relay, judged, now, FindingSeverity.High,
                observed: byRequests ? gapRequests!.Value : gapTokens, threshold: 0, baseline: byRequests ? relay.Calls : relay.TotalTokens,
                why: $"after version {target.Version} was revoked at {UsageHours.Format(revokedAt)}");
        }

        // Percent times count, then divided: 3 % of 1,000 is exactly 30, not a rounding either side of it.
        var requestLimit = Math.Max(options.ShadowMinRequests, options.ShadowTolerancePercent * relay.Calls / 100);
        var tokenLimit = Math.Max(options.ShadowMinTokens, options.ShadowTolerancePercent * relay.TotalTokens / 100);
        var requestsOver = gapRequests is { } requests && requests > requestLimit;
        var tokensOver = gapTokens > tokenLimit;
        if (!requestsOver && !tokensOver)
            return null;

        var high = (requestsOver && provider.Requests > options.ShadowHighMultiple * relay.Calls)
            || (tokensOver && provider.TotalTokens > options.ShadowHighMultiple * relay.TotalTokens);
        return requestsOver
            ? Build(Detectors.ShadowUsage, target, hour, provider, relay, judged, now, high ? FindingSeverity.High : FindingSeverity.Medium,
                observed: gapRequests!.Value, threshold: requestLimit, baseline: relay.Calls, why: "that the relay did not send")
            : Build(Detectors.ShadowUsage, target, hour, provider, relay, judged, now, high ? FindingSeverity.High : FindingSeverity.Medium,
                observed: gapTokens, threshold: tokenLimit, baseline: relay.TotalTokens, why: "that the relay did not send");
    }

    private static Finding Build(string detector, ShadowTarget target, DateTimeOffset hour, ProviderHourUsage provider, RelayHourUsage relay,
        string judged, DateTimeOffset now, FindingSeverity severity, double observed, double threshold, double baseline, string why)
    {
        var details = new Dictionary<string, string>
        {
            ["providerKeyId"] = target.ProviderKeyId,
            ["provider"] = target.Key.Provider,
            ["providerRequests"] = provider.Requests is { } requests ? Raw(requests) : "not reported",
            ["providerTokens"] = Raw(provider.TotalTokens),
            ["relayCalls"] = Raw(relay.Calls),
            ["relayTokens"] = Raw(relay.TotalTokens),
            ["gapRequests"] = provider.Requests is { } r ? Raw(r - relay.Calls) : "not reported",
            ["gapTokens"] = Raw(provider.TotalTokens - relay.TotalTokens),
            ["judged"] = judged,
        };
        if (target.RevokedAt is { } revokedAt)
            details["revokedAt"] = UsageHours.Format(revokedAt);

        var providerCount = provider.Requests is { } count ? $"{Number(count)} requests and " : "";
        var gapCount = provider.Requests is { } c ? $"{Number(c - relay.Calls)} requests and " : "";
        return new Finding
        {
            Id = FindingId.For(detector, target.Subject, hour),
            Detector = detector,
            Subject = target.Subject,
            WindowStart = hour,
            WindowEnd = hour + UsageHours.Length,
            Tenant = target.Key.Tenant,
            Observed = observed,
            Baseline = baseline,
            Threshold = threshold,
            Severity = severity,
            Summary = $"{target.Key.Provider} reported {providerCount}{Number(provider.TotalTokens)} tokens on its key {target.UsageKeyId} " +
                $"(provider key {target.Key.Name}, version {target.Version}) in the hour from {UsageHours.Format(hour)} {why}: the relay sent " +
                $"{Number(relay.Calls)} calls and {Number(relay.TotalTokens)} tokens on it, a gap of {gapCount}{Number(provider.TotalTokens - relay.TotalTokens)} tokens.",
            FoundAt = now,
            Details = details,
        };
    }

    private static string Raw(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
