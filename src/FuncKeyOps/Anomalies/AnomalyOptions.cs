using System.Net;
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
/// The same two levels take <c>KnownSources</c>, CIDR blocks <c>new_source</c> always knows (added, not overridden).
/// Only thresholds about a relay key's own traffic can be narrowed; the ones about sources (failed authentications)
/// and provider key versions are global, since such a row belongs to no one relay key. A tenant also sets the time zone
/// its quiet hours are read in (<c>Anomalies:Tenants:{tenant}:TimeZone</c>, else <see cref="TimeZone"/>).
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

    /// <summary>
    /// History a relay key or provider key needs before it has a baseline (<c>Anomalies:WarmUp</c>): until then the
    /// baseline detectors stay silent for it and only the absolute ones fire. Default 7 days.
    /// </summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The IANA time zone quiet hours are read in (<c>Anomalies:TimeZone</c>, e.g. <c>Europe/Berlin</c>) for tenants
    /// that set none of their own. Default UTC.
    /// </summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary><c>act</c> takes the actions findings' policies ask; <c>observe</c> records what would have been done and does nothing.</summary>
    public AnomalyMode Mode { get; set; } = AnomalyMode.Act;

    /// <summary>The thresholds for every relay key, source and provider key (defaults from issue 21).</summary>
    public AnomalyThresholds Thresholds { get; set; } = new();

    /// <summary>Per tenant: thresholds that differ for its relay keys (<c>Anomalies:Tenants:{tenant}:{Name}</c>).</summary>
    public Dictionary<string, AnomalyTenantOverrides> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per relay key id: thresholds that differ for it (<c>Anomalies:RelayKeys:{id}:{Name}</c>), over its tenant's.</summary>
    public Dictionary<string, AnomalyThresholdOverrides> RelayKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The thresholds that apply to a relay key of <paramref name="tenant"/>: its own overrides, then its tenant's, then the global ones.</summary>
    public AnomalyThresholds For(string? tenant, string? relayKeyId)
    {
        var relayKey = relayKeyId is not null && RelayKeys.TryGetValue(relayKeyId, out var own) ? own : null;
        var ofTenant = tenant is not null && Tenants.TryGetValue(tenant, out var theirs) ? theirs : null;
        var thresholds = Thresholds;
        if (ofTenant is not null)
            thresholds = thresholds.Apply(ofTenant);
        if (relayKey is not null)
            thresholds = thresholds.Apply(relayKey);
        return thresholds;
    }

    /// <summary>The time zone quiet hours are read in for <paramref name="tenant"/>: its own, else the global one.</summary>
    /// <exception cref="TimeZoneNotFoundException">Not a time zone (validation refuses such settings at start).</exception>
    public TimeZoneInfo TimeZoneFor(string? tenant)
    {
        var id = tenant is not null && Tenants.TryGetValue(tenant, out var theirs) && theirs.TimeZone is { Length: > 0 } own ? own : TimeZone;
        return id == "UTC" ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(id);
    }

    /// <summary>
    /// Networks always known as sources of a relay key of <paramref name="tenant"/> (<c>new_source</c>): its tenant's
    /// <c>KnownSources</c> and its own, together (a relay key adds to its tenant's list, never narrows it).
    /// </summary>
    public IReadOnlyList<IPNetwork> KnownNetworks(string? tenant, string? relayKeyId)
    {
        var ofTenant = tenant is not null && Tenants.TryGetValue(tenant, out var theirs) ? theirs.KnownSources : null;
        var own = relayKeyId is not null && RelayKeys.TryGetValue(relayKeyId, out var mine) ? mine.KnownSources : null;
        if (ofTenant is not { Count: > 0 } && own is not { Count: > 0 })
            return [];
        // Entries were checked as the host started (ThresholdError); one that does not parse here is skipped.
        return [.. (ofTenant ?? []).Concat(own ?? []).Select(e => FuncKeyOps.RelayKeys.IpAllowList.TryParse(e, out var n, out _) ? n : (IPNetwork?)null).OfType<IPNetwork>()];
    }

    internal CronExpression? TryParseSchedule() => CronSchedule.TryParse(Schedule);

    /// <summary>Every threshold in range and every time zone known, here and in each override; the first fault found, or null.</summary>
    internal string? ThresholdError()
    {
        if (Thresholds.Error("Anomalies:Thresholds") is { } global)
            return global;
        if (TimeZoneError("Anomalies:TimeZone", TimeZone) is { } zone)
            return zone;
        foreach (var (tenant, overrides) in Tenants)
        {
            if ((Thresholds.Apply(overrides).Error($"Anomalies:Tenants:{tenant}") ?? overrides.KnownSourcesError($"Anomalies:Tenants:{tenant}")) is { } error)
                return error;
            if (overrides.TimeZone is not null && TimeZoneError($"Anomalies:Tenants:{tenant}:TimeZone", overrides.TimeZone) is { } own)
                return own;
        }
        foreach (var (id, overrides) in RelayKeys)
        {
            if ((Thresholds.Apply(overrides).Error($"Anomalies:RelayKeys:{id}") ?? overrides.KnownSourcesError($"Anomalies:RelayKeys:{id}")) is { } error)
                return error;
        }
        return null;
    }

    // IANA ids only (what the tenant's people name their zone by, the same on every OS): .NET also accepts Windows ids
    // on Linux and the other way round, which would make a setting's meaning depend on where it runs.
    private static string? TimeZoneError(string setting, string id)
    {
        if (id == "UTC")
            return null;
        try
        {
            if (!string.IsNullOrWhiteSpace(id) && TimeZoneInfo.FindSystemTimeZoneById(id).HasIanaId)
                return null;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
        }
        return $"{setting} must be an IANA time zone id such as UTC or Europe/Berlin; '{id}' is not one this machine knows.";
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

    /// <summary><c>tokens</c>, relative part: a relay key's tokens in a window over this multiple of its baseline (median) ...</summary>
    public double TokensMultiple { get; set; } = 5;

    /// <summary>
    /// ... once they number at least this many: a floor that keeps quiet keys quiet. Reaching it is enough (issue 21's
    /// "with at least 100,000"), unlike the bounds above, which must be exceeded.
    /// </summary>
    public long TokensMinForMultiple { get; set; } = 100_000;

    /// <summary><c>volume</c>: a relay key's calls in a window over this multiple of its baseline (median) ...</summary>
    public double VolumeMultiple { get; set; } = 5;

    /// <summary>... and over this many calls (the floor keeps quiet keys quiet).</summary>
    public long VolumeMinCalls { get; set; } = 500;

    /// <summary><c>quiet_hours</c>: more calls than this in a window starting in the quiet hours ...</summary>
    public long QuietHoursMinCalls { get; set; } = 100;

    /// <summary>... which begin at this time of day in the tenant's time zone (<see cref="AnomalyOptions.TimeZoneFor"/>) ...</summary>
    public TimeSpan QuietHoursStart { get; set; } = TimeSpan.FromHours(2);

    /// <summary>... and end at this one (excluded; an end before the start spans midnight) ...</summary>
    public TimeSpan QuietHoursEnd { get; set; } = TimeSpan.FromHours(6);

    /// <summary>... from a key whose baseline for that hour (median calls per window) is under this share of the calls seen.</summary>
    public double QuietHoursBaselineShare { get; set; } = 0.1;

    /// <summary><c>new_source</c>: calls of a relay key from one source it was not seen from in 30 days, above which a finding.</summary>
    public int NewSourceMinCalls { get; set; } = 10;

    /// <summary><c>new_source</c>: above this many calls a finding (one source, or the spread) is high severity, which the default policy contains.</summary>
    public int NewSourceContainCalls { get; set; } = 100;

    /// <summary>
    /// <c>new_source</c>, spread: calls of a relay key from all its unseen sources too small to be found one by one,
    /// together, above which a finding (a leak used from many addresses with a few calls each).
    /// </summary>
    public int NewSourceSpreadCalls { get; set; } = 50;

    /// <summary>
    /// <c>budget</c>: how much of a month must have passed before its month-to-date spend is projected to the month's
    /// end (a few hours' spend says too little about a month). Default a day, the daily cycle once.
    /// </summary>
    public TimeSpan BudgetProjectionAfter { get; set; } = TimeSpan.FromDays(1);

    internal AnomalyThresholds Apply(AnomalyThresholdOverrides overrides) => this with
    {
        ErrorRate = overrides.ErrorRate ?? ErrorRate,
        ErrorRateMinCalls = overrides.ErrorRateMinCalls ?? ErrorRateMinCalls,
        TokensPerWindow = overrides.TokensPerWindow ?? TokensPerWindow,
        TokensMultiple = overrides.TokensMultiple ?? TokensMultiple,
        TokensMinForMultiple = overrides.TokensMinForMultiple ?? TokensMinForMultiple,
        VolumeMultiple = overrides.VolumeMultiple ?? VolumeMultiple,
        VolumeMinCalls = overrides.VolumeMinCalls ?? VolumeMinCalls,
        QuietHoursMinCalls = overrides.QuietHoursMinCalls ?? QuietHoursMinCalls,
        QuietHoursStart = overrides.QuietHoursStart ?? QuietHoursStart,
        QuietHoursEnd = overrides.QuietHoursEnd ?? QuietHoursEnd,
        QuietHoursBaselineShare = overrides.QuietHoursBaselineShare ?? QuietHoursBaselineShare,
        NewSourceMinCalls = overrides.NewSourceMinCalls ?? NewSourceMinCalls,
        NewSourceContainCalls = overrides.NewSourceContainCalls ?? NewSourceContainCalls,
        NewSourceSpreadCalls = overrides.NewSourceSpreadCalls ?? NewSourceSpreadCalls,
        BudgetProjectionAfter = overrides.BudgetProjectionAfter ?? BudgetProjectionAfter,
    };

    /// <summary>Whether a window starting at <paramref name="localTimeOfDay"/> (the tenant's clock) is in the quiet hours.</summary>
    internal bool InQuietHours(TimeSpan localTimeOfDay) => QuietHoursStart <= QuietHoursEnd
        ? localTimeOfDay >= QuietHoursStart && localTimeOfDay < QuietHoursEnd
        : localTimeOfDay >= QuietHoursStart || localTimeOfDay < QuietHoursEnd;

    internal string? Error(string section) =>
        AuthFailuresPerSource < 0 ? $"{section}:AuthFailuresPerSource must not be negative."
        : AuthFailuresTotal < 0 ? $"{section}:AuthFailuresTotal must not be negative."
        : ErrorRate is < 0 or >= 1 || double.IsNaN(ErrorRate) ? $"{section}:ErrorRate must be from 0 to below 1."
        : ErrorRateMinCalls < 1 ? $"{section}:ErrorRateMinCalls must be at least 1."
        : TokensPerWindow < 0 ? $"{section}:TokensPerWindow must not be negative."
        : !(TokensMultiple >= 1) || double.IsInfinity(TokensMultiple) ? $"{section}:TokensMultiple must be a number of at least 1."
        : TokensMinForMultiple < 0 ? $"{section}:TokensMinForMultiple must not be negative."
        : !(VolumeMultiple >= 1) || double.IsInfinity(VolumeMultiple) ? $"{section}:VolumeMultiple must be a number of at least 1."
        : VolumeMinCalls < 0 ? $"{section}:VolumeMinCalls must not be negative."
        : QuietHoursMinCalls < 0 ? $"{section}:QuietHoursMinCalls must not be negative."
        : QuietHoursStart < TimeSpan.Zero || QuietHoursStart >= TimeSpan.FromDays(1) ? $"{section}:QuietHoursStart must be a time of day from 00:00 to before 24:00."
        : QuietHoursEnd < TimeSpan.Zero || QuietHoursEnd >= TimeSpan.FromDays(1) ? $"{section}:QuietHoursEnd must be a time of day from 00:00 to before 24:00."
        : !(QuietHoursBaselineShare is > 0 and <= 1) ? $"{section}:QuietHoursBaselineShare must be above 0 and at most 1."
        : NewSourceMinCalls < 0 ? $"{section}:NewSourceMinCalls must not be negative."
        : NewSourceContainCalls < NewSourceMinCalls ? $"{section}:NewSourceContainCalls must not be under NewSourceMinCalls."
        : NewSourceSpreadCalls < 0 ? $"{section}:NewSourceSpreadCalls must not be negative."
        : BudgetProjectionAfter <= TimeSpan.Zero || BudgetProjectionAfter > TimeSpan.FromDays(28) ? $"{section}:BudgetProjectionAfter must be over 0 and at most 28 days."
        : null;
}

/// <summary>The thresholds a tenant or a relay key sets for itself; an unset one falls through to the wider level.</summary>
public class AnomalyThresholdOverrides
{
    public double? ErrorRate { get; set; }
    public int? ErrorRateMinCalls { get; set; }
    public long? TokensPerWindow { get; set; }
    public double? TokensMultiple { get; set; }
    public long? TokensMinForMultiple { get; set; }
    public double? VolumeMultiple { get; set; }
    public long? VolumeMinCalls { get; set; }
    public long? QuietHoursMinCalls { get; set; }
    public TimeSpan? QuietHoursStart { get; set; }
    public TimeSpan? QuietHoursEnd { get; set; }
    public double? QuietHoursBaselineShare { get; set; }
    public int? NewSourceMinCalls { get; set; }
    public int? NewSourceContainCalls { get; set; }
    public int? NewSourceSpreadCalls { get; set; }
    public TimeSpan? BudgetProjectionAfter { get; set; }

    /// <summary>
    /// <c>new_source</c>: CIDR blocks (or single addresses) always known as sources of these relay keys, e.g. the
    /// tenant's offices and egress NATs; added to the relay key's own <c>allowedIps</c>.
    /// </summary>
    public List<string>? KnownSources { get; set; }

    internal string? KnownSourcesError(string section)
    {
        foreach (var entry in KnownSources ?? [])
        {
            if (!FuncKeyOps.RelayKeys.IpAllowList.TryParse(entry, out _, out var error))
                return $"{section}:KnownSources: {error}.";
        }
        return null;
    }
}

/// <summary>What a tenant sets for its relay keys: thresholds, and the time zone its quiet hours are in.</summary>
public sealed class AnomalyTenantOverrides : AnomalyThresholdOverrides
{
    /// <summary>IANA time zone id (<c>Anomalies:Tenants:{tenant}:TimeZone</c>); unset, <see cref="AnomalyOptions.TimeZone"/>.</summary>
    public string? TimeZone { get; set; }
}
