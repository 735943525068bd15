using System.ComponentModel.DataAnnotations;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// When an hour of provider usage is judged and how much more than the relay's is a finding; configuration section
/// <c>Anomalies</c> (the sweep's section: these are its shadow-usage settings).
/// </summary>
public sealed class ShadowUsageOptions
{
    public const string Section = "Anomalies";

    /// <summary>How long after an hour ends its provider usage is taken as settled and first judged (the reports run behind).</summary>
    public TimeSpan UsageSettle { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long after an hour ends it is judged a second time, with what the provider reported late.</summary>
    public TimeSpan UsageRejudge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The most hours a provider key catches up on at once after downtime or a failing usage API; older hours are
    /// left unjudged with a warning, so one run never reads weeks of reports.
    /// </summary>
    public TimeSpan UsageMaxCatchUp { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Provider requests beyond the relay's that are always tolerated in one hour.</summary>
    [Range(0, int.MaxValue)]
    public int ShadowMinRequests { get; set; } = 5;

    /// <summary>Provider tokens (input plus output) beyond the relay's that are always tolerated in one hour.</summary>
    [Range(0, long.MaxValue)]
    public long ShadowMinTokens { get; set; } = 20_000;

    /// <summary>Beyond the floors, the excess tolerated as a share of the relay's own count, in percent.</summary>
    [Range(0, 1000)]
    public double ShadowTolerancePercent { get; set; } = 3;

    /// <summary>Provider usage over this multiple of the relay's in one hour makes the finding high severity.</summary>
    [Range(1, 1_000_000)]
    public double ShadowHighMultiple { get; set; } = 10;

    internal bool HasValidTimes =>
        UsageSettle > TimeSpan.Zero && UsageRejudge > UsageSettle && UsageMaxCatchUp >= TimeSpan.FromHours(1);
}
