using Cronos;
using FuncKeyOps.Hosting;

namespace FuncKeyOps.Anomalies;

/// <summary>
/// The anomaly sweep: when it runs, when a window counts as closed, how long one instance holds it, and the detectors'
/// thresholds. Configuration section <c>Anomalies</c>, checked as the host starts.
/// </summary>
/// <remarks>
/// Thresholds have one shape at three levels, the narrowest set value winning:
/// <c>Anomalies:Thresholds:{Name}</c> for everyone, <c>Anomalies:Tenants:{tenant}:{Name}</c> for a tenant's relay keys,
/// <c>Anomalies:RelayKeys:{relayKeyId}:{Name}</c> for one relay key (e.g. <c>Anomalies__RelayKeys__rk1__TokensPerWindow</c>).
/// Only thresholds about a relay key's own traffic can be narrowed; the ones about sources (failed authentications)
/// and provider key versions are global, since such a row belongs to no one relay key.
/// </remarks>
public sealed class AnomalyOptions
{
    public const string Section = "Anomalies";

    /// <summary>
    /// When the sweep runs: cron in UTC, six fields with seconds (NCRONTAB) as the Functions timer reads the same setting
    /// (<c>%Anomalies:Schedule%</c>), or five. Default every 5 minutes; a run sweeps every closed window since the
    /// checkpoint, so a missed run is caught up by the next.
    /// </summary>
    public string Schedule { get; set; } = "0 */5 * * * *";

    /// <summary>
    /// How long after its end a window counts as closed. Rows reach the table about <c>Audit:Linger</c> (1 s) after their
    /// call plus the write, and a write that failed is retried after up to <c>Audit:MaxRetryDelay</c> (30 s): a minute
    /// covers a writer that had to wait out one longest retry. Rows later than that (a longer storage outage, a spill
    /// replayed after a restart) land in a window already swept and are not counted by the sweep.
    /// </summary>
    public TimeSpan SettleDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long one instance holds the sweep without writing the checkpoint (each window's checkpoint write renews it).
    /// An instance paused past it loses the sweep to the next and writes nothing more.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Most closed windows one run sweeps: after downtime the sweep catches up this many windows per run (oldest first),
    /// so one run stays bounded; 24 (two hours) per 5-minute run catches up a day in about an hour.
    /// </summary>
    public int MaxWindowsPerRun { get; set; } = 24;

    /// <summary><c>act</c> takes the actions findings' policies ask; <c>observe</c> records what would have been done and does nothing.</summary>
    public AnomalyMode Mode { get; set; } = AnomalyMode.Act;

    /// <summary>The thresholds for every relay key, source and provider key (defaults from issue 21).</summary>
    public AnomalyThresholds Thresholds { get; set; } = new();

    /// <summary>Per tenant: thresholds that differ for its relay keys (<c>Anomalies:Tenants:{tenant}:{Name}</c>).</summary>
    public Dictionary<string, AnomalyThresholdOverrides> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per relay key id: thresholds that differ for it (<c>Anomalies:RelayKeys:{id}:{Name}</c>), over its tenant's.</summary>
    public Dictionary<string, AnomalyThresholdOverrides> RelayKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The thresholds that apply to a relay key of <paramref name="tenant"/>: its own overrides, then its tenant's, then the global ones.</summary>
    public AnomalyThresholds For(string? tenant, string? relayKeyId)
    {
        var relayKey = relayKeyId is not null && RelayKeys.TryGetValue(relayKeyId, out var own) ? own : null;
        var ofTenant = tenant is not null && Tenants.TryGetValue(tenant, out var theirs) ? theirs : null;
        if (relayKey is null && ofTenant is null)
            return Thresholds;
        return Thresholds with
        {
            ErrorRate = relayKey?.ErrorRate ?? ofTenant?.ErrorRate ?? Thresholds.ErrorRate,
            ErrorRateMinCalls = relayKey?.ErrorRateMinCalls ?? ofTenant?.ErrorRateMinCalls ?? Thresholds.ErrorRateMinCalls,
            TokensPerWindow = relayKey?.TokensPerWindow ?? ofTenant?.TokensPerWindow ?? Thresholds.TokensPerWindow,
        };
    }

    internal CronExpression? TryParseSchedule() => CronSchedule.TryParse(Schedule);

    /// <summary>Every threshold in range, here and in each override; the first fault found, or null.</summary>
    internal string? ThresholdError()
    {
        if (Thresholds.Error("Anomalies:Thresholds") is { } global)
            return global;
        foreach (var (tenant, overrides) in Tenants)
        {
            if (Thresholds.Apply(overrides).Error($"Anomalies:Tenants:{tenant}") is { } error)
                return error;
        }
        foreach (var (id, overrides) in RelayKeys)
        {
            if (Thresholds.Apply(overrides).Error($"Anomalies:RelayKeys:{id}") is { } error)
                return error;
        }
        return null;
    }
}

public enum AnomalyMode
{
    /// <summary>Findings' actions are taken (alert, suspend, rotate) as their policy says.</summary>
    Act,
    /// <summary>Findings are recorded with the action that would have been taken; nothing is done.</summary>
    Observe,
}

/// <summary>
/// The absolute detectors' thresholds. Each is a bound that must be exceeded: a value equal to it raises nothing.
/// A record, so the per-tenant and per-relay-key values are the global ones with some replaced.
/// </summary>
public sealed record AnomalyThresholds
{
    /// <summary><c>auth_failures</c>: failed relay-key authentications from one source (IPv6 by /64) in a window, above which a finding.</summary>
    public int AuthFailuresPerSource { get; set; } = 20;

    /// <summary><c>auth_failures</c>: failed relay-key authentications from all sources together in a window (guessing spread over addresses).</summary>
    public int AuthFailuresTotal { get; set; } = 200;

    /// <summary><c>error_rate</c>: share of a relay key's calls the relay answered 5xx (0 to 1), above which a finding ...</summary>
    public double ErrorRate { get; set; } = 0.2;

    /// <summary>... once the key made at least this many calls in the window (fewer say too little).</summary>
    public int ErrorRateMinCalls { get; set; } = 50;

    /// <summary><c>tokens</c>: input plus output tokens of one relay key in a window, above which a finding.</summary>
    public long TokensPerWindow { get; set; } = 1_000_000;

    internal AnomalyThresholds Apply(AnomalyThresholdOverrides overrides) => this with
    {
        ErrorRate = overrides.ErrorRate ?? ErrorRate,
        ErrorRateMinCalls = overrides.ErrorRateMinCalls ?? ErrorRateMinCalls,
        TokensPerWindow = overrides.TokensPerWindow ?? TokensPerWindow,
    };

    internal string? Error(string section) =>
        AuthFailuresPerSource < 0 ? $"{section}:AuthFailuresPerSource must not be negative."
        : AuthFailuresTotal < 0 ? $"{section}:AuthFailuresTotal must not be negative."
        : ErrorRate is < 0 or >= 1 || double.IsNaN(ErrorRate) ? $"{section}:ErrorRate must be from 0 to below 1."
        : ErrorRateMinCalls < 1 ? $"{section}:ErrorRateMinCalls must be at least 1."
        : TokensPerWindow < 0 ? $"{section}:TokensPerWindow must not be negative."
        : null;
}

/// <summary>The thresholds a tenant or a relay key sets for itself; an unset one falls through to the wider level.</summary>
public sealed class AnomalyThresholdOverrides
{
    public double? ErrorRate { get; set; }
    public int? ErrorRateMinCalls { get; set; }
    public long? TokensPerWindow { get; set; }
}
