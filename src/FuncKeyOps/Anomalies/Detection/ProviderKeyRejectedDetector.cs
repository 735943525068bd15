using System.Globalization;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>provider_key_rejected</c>: any attempt the provider refused a provider key version on (audit
/// <c>provider_key_rejected</c>, its 401/403), failed attempts that another version then answered included. The version
/// was revoked elsewhere, or leaked and killed by the provider's own scanner: always high, since every call on it fails.
/// </summary>
internal sealed class ProviderKeyRejectedDetector : IWindowDetector
{
    public string Name => Detectors.ProviderKeyRejected;

    public ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var ((name, version), key) in context.Tally.ProviderKeys.OrderBy(k => k.Key.Name, StringComparer.Ordinal).ThenBy(k => k.Key.Version, StringComparer.Ordinal))
        {
            if (key.Rejected == 0)
                continue;
            findings.Add(context.NewFinding(Name, DetectionContext.ProviderKeySubject(name, version), tenant: null, key.Rejected, threshold: 0, FindingSeverity.High,
                string.Create(CultureInfo.InvariantCulture, $"{key.Provider} refused provider key {name} version {version} on {key.Rejected} of {key.Calls} attempts"),
                new Dictionary<string, string>
                {
                    ["provider"] = key.Provider,
                    ["providerKeyName"] = name,
                    ["providerKeyVersion"] = version,
                    ["attempts"] = key.Calls.ToString(CultureInfo.InvariantCulture),
                }));
        }
        return ValueTask.FromResult<IReadOnlyList<Finding>>(findings);
    }
}
