namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// What the sweep does about its findings; configuration section <c>Anomalies</c>, beside the sweep's own settings
/// (<see cref="AnomalyOptions"/>, whose <see cref="AnomalyOptions.Mode"/> <c>observe</c> records on each finding what
/// would have been done and does nothing: no suspension, no rotation, no alert).
/// </summary>
public sealed class FindingActionOptions
{
    public const string Section = AnomalyOptions.Section;

    /// <summary>Per detector, from which severity on its findings are contained (<c>Anomalies:Actions:{Detector}</c>).</summary>
    public FindingContainment Actions { get; set; } = new();
}

/// <summary>
/// The lowest severity of a detector's findings that is contained: <c>never</c>, <c>low</c>, <c>medium</c> or
/// <c>high</c>. Containing means suspending the relay key a finding names, or rotating (emergency) the provider key it
/// names; a finding about anything else (a source, a tenant) cannot be contained and is alerted only, like every
/// finding below the severity. Every finding is alerted once whatever its containment.
/// </summary>
public enum ContainFrom { Never, Low, Medium, High }

/// <summary>
/// One setting per detector (<see cref="Detectors"/>), named after it in the settings' casing. Defaults as issue 21
/// item 7 sets them: a new source's high findings (over 100 calls) and any sign that a provider key is out of our hands
/// (shadow usage, a retired key used, the provider refusing a key) are contained; the rest alert.
/// </summary>
public sealed class FindingContainment
{
    public ContainFrom Volume { get; set; } = ContainFrom.Never;
    public ContainFrom Tokens { get; set; } = ContainFrom.Never;
    public ContainFrom QuietHours { get; set; } = ContainFrom.Never;
    public ContainFrom NewSource { get; set; } = ContainFrom.High;
    public ContainFrom AuthFailures { get; set; } = ContainFrom.Never;
    public ContainFrom ErrorRate { get; set; } = ContainFrom.Never;
    public ContainFrom ProviderKeyRejected { get; set; } = ContainFrom.Low;
    public ContainFrom Budget { get; set; } = ContainFrom.Never;
    public ContainFrom ShadowUsage { get; set; } = ContainFrom.Low;
    public ContainFrom RetiredKeyUse { get; set; } = ContainFrom.Low;

    /// <summary>The setting of <paramref name="detector"/>; a detector this version does not know is never contained.</summary>
    public ContainFrom For(string detector) => detector switch
    {
        Detectors.Volume => Volume,
        Detectors.Tokens => Tokens,
        Detectors.QuietHours => QuietHours,
        Detectors.NewSource => NewSource,
        Detectors.AuthFailures => AuthFailures,
        Detectors.ErrorRate => ErrorRate,
        Detectors.ProviderKeyRejected => ProviderKeyRejected,
        Detectors.Budget => Budget,
        Detectors.ShadowUsage => ShadowUsage,
        Detectors.RetiredKeyUse => RetiredKeyUse,
        _ => ContainFrom.Never,
    };
}
