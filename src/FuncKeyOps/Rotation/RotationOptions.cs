namespace FuncKeyOps.Rotation;

public sealed class RotationOptions
{
    public const string Section = "Rotation";

    /// <summary>How often a step that waits on something outside (a staged value, a provider that did not answer) is run again.</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long such a step may keep waiting before the rotation fails with an alert.</summary>
    public TimeSpan StagedValueTimeout { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Fewer calls than this on the new version make an analysis pass (nothing to judge).</summary>
    public int AnalysisMinRequests { get; set; } = RotationPlans.DefaultMinRequests;
}
