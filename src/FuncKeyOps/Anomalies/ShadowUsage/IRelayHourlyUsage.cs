using FuncKeyOps.Audit;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// What the relay itself sent on each provider key version in one UTC hour: the side of the comparison no provider
/// report knows. Read from the audit rows for now (<see cref="AuditRelayHourlyUsage"/>); the sweep's hourly rollups take
/// its place behind this interface once they exist.
/// </summary>
internal interface IRelayHourlyUsage
{
    /// <summary>Usage by (provider key name, version) in [<paramref name="hour"/>, +1 h); versions without relay traffic are absent.</summary>
    Task<IReadOnlyDictionary<(string Key, string Version), RelayHourUsage>> ReadHourAsync(DateTimeOffset hour, CancellationToken cancellationToken);
}

/// <summary>
/// The relay's calls on a key version in an hour: every attempt that reached the provider or may have (a timed-out or
/// cut attempt counts, it may have been billed), and the tokens the answers reported or the relay estimated.
/// </summary>
internal sealed record RelayHourUsage(long Calls, long InputTokens, long OutputTokens)
{
    public static readonly RelayHourUsage None = new(0, 0, 0);

    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>The relay's side from the audit rows, through <see cref="UsageQuery"/>'s per-version tally: one read of the hour for every key.</summary>
internal sealed class AuditRelayHourlyUsage(UsageQuery usage) : IRelayHourlyUsage
{
    public async Task<IReadOnlyDictionary<(string Key, string Version), RelayHourUsage>> ReadHourAsync(DateTimeOffset hour, CancellationToken cancellationToken)
    {
        var report = await usage.SummarizeAsync(hour, hour + UsageHours.Length, providerKey: null, UsageGroupBy.ProviderKey, cancellationToken).ConfigureAwait(false);
        var byVersion = new Dictionary<(string, string), RelayHourUsage>();
        foreach (var version in report.Versions)
        {
            // A row naming no version never reached a key of the provider's.
            if (version.Version is { } name)
                byVersion[(version.ProviderKey, name)] = new RelayHourUsage(version.Calls, version.InputTokens, version.OutputTokens);
        }
        return byVersion;
    }
}
