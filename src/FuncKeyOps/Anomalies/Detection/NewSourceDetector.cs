using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// <c>new_source</c>: a relay key called from a source (<see cref="SourceKey"/>: IPv4 exact, IPv6 by /64) it was not
/// seen from in the 30 days before the window, over <see cref="AnomalyThresholds.NewSourceMinCalls"/> calls in the
/// window; and the spread rule, the unseen sources too small to be found one by one together over
/// <see cref="AnomalyThresholds.NewSourceSpreadCalls"/> (a leak used from many addresses with a few calls each). High
/// over <see cref="AnomalyThresholds.NewSourceContainCalls"/>, where the default policy contains.
/// </summary>
/// <remarks>
/// A key with no source seen in the 30 days before (brand new, or idle that long) has nothing to compare with: its
/// sources are learnt (<see cref="IKnownSourceStore"/>), not flagged. Always known: the relay key's own
/// <c>allowedIps</c> and the <c>KnownSources</c> blocks of its tenant and of itself. A source the relay could not name
/// (<see cref="SourceKey.Unknown"/>) is not judged. Both findings have the relay key as subject (what containment
/// suspends); a single source's id also carries the source, so two new sources in a window are two findings.
/// </remarks>
internal sealed class NewSourceDetector(IRelayKeyAllowList relayKeys) : IWindowDetector
{
    public string Name => Detectors.NewSource;

    public async ValueTask<IReadOnlyList<Finding>> DetectAsync(DetectionContext context, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        foreach (var (relayKeyId, key) in context.Tally.RelayKeys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var thresholds = context.Options.For(key.Tenant, relayKeyId);
            // Too few calls to reach either rule, whatever is unseen: no read needed.
            if (key.Calls <= Math.Min(thresholds.NewSourceMinCalls, thresholds.NewSourceSpreadCalls))
                continue;
            var known = await context.KnownSources.GetAsync(relayKeyId, context.Window, context.RunId, cancellationToken).ConfigureAwait(false);
            if (known.Count == 0)
                continue;
            var candidates = key.CallsBySource.Where(s => s.Key != SourceKey.Unknown && !known.Contains(s.Key)).ToList();
            if (candidates.Count == 0)
                continue;
            var networks = await NetworksAsync(context.Options, key.Tenant, relayKeyId, cancellationToken).ConfigureAwait(false);
            var unseen = candidates.Where(s => !InAny(networks, s.Key)).OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            var subject = DetectionContext.RelayKeySubject(relayKeyId);

            foreach (var (source, calls) in unseen.Where(s => s.Value > thresholds.NewSourceMinCalls))
            {
                findings.Add(context.NewFinding(Name, subject, key.Tenant, calls, thresholds.NewSourceMinCalls, SeverityOf(calls, thresholds),
                    string.Create(CultureInfo.InvariantCulture, $"{calls} calls in 5 minutes from {source}, a source not seen for this relay key in 30 days (threshold {thresholds.NewSourceMinCalls}; contained over {thresholds.NewSourceContainCalls})"),
                    new Dictionary<string, string>
                    {
                        ["source"] = source,
                        ["calls"] = calls.ToString(CultureInfo.InvariantCulture),
                        ["knownSources"] = known.Count.ToString(CultureInfo.InvariantCulture),
                    }) with { Id = SingleSourceId(subject, source, context.Window) });
            }

            var small = unseen.Where(s => s.Value <= thresholds.NewSourceMinCalls).ToList();
            var spread = small.Sum(s => s.Value);
            if (spread > thresholds.NewSourceSpreadCalls)
            {
                findings.Add(context.NewFinding(Name, subject, key.Tenant, spread, thresholds.NewSourceSpreadCalls, SeverityOf(spread, thresholds),
                    string.Create(CultureInfo.InvariantCulture, $"{spread} calls in 5 minutes from {small.Count} sources not seen for this relay key in 30 days, none over {thresholds.NewSourceMinCalls} alone (threshold {thresholds.NewSourceSpreadCalls} together)"),
                    new Dictionary<string, string>
                    {
                        ["sources"] = small.Count.ToString(CultureInfo.InvariantCulture),
                        ["calls"] = spread.ToString(CultureInfo.InvariantCulture),
                        ["knownSources"] = known.Count.ToString(CultureInfo.InvariantCulture),
                    }));
            }
        }
        return findings;
    }

    /// <summary>One source's finding: its subject is the relay key, its id also names the source.</summary>
    public static string SingleSourceId(string subject, string source, SweepWindow window) =>
        FindingId.For(Detectors.NewSource, subject + "|" + DetectionContext.SourceSubject(source), window);

    private static FindingSeverity SeverityOf(long calls, AnomalyThresholds thresholds) =>
        calls > thresholds.NewSourceContainCalls ? FindingSeverity.High : FindingSeverity.Medium;

    private async ValueTask<IReadOnlyList<IPNetwork>> NetworksAsync(AnomalyOptions options, string? tenant, string relayKeyId, CancellationToken cancellationToken)
    {
        var configured = options.KnownNetworks(tenant, relayKeyId);
        // A key gone since its calls has no allow-list left to read; its configured blocks still count.
        var allowed = await relayKeys.AllowedIpsAsync(relayKeyId, cancellationToken).ConfigureAwait(false);
        return allowed.Count == 0 ? configured : [.. configured, .. allowed];
    }

    /// <summary>An IPv4 source inside a block; an IPv6 /64 source inside a block of /64 or wider.</summary>
    internal static bool InAny(IReadOnlyList<IPNetwork> networks, string source)
    {
        if (networks.Count == 0)
            return false;
        var slash = source.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? source : source[..slash], out var address))
            return false;
        foreach (var network in networks)
        {
            if (network.BaseAddress.AddressFamily != address.AddressFamily || !network.Contains(address))
                continue;
            if (address.AddressFamily != AddressFamily.InterNetworkV6 || slash < 0 || network.PrefixLength <= 64)
                return true;
        }
        return false;
    }
}
