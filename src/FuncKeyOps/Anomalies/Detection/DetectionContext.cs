using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Anomalies.Detection;

/// <summary>What a detector reads: the window's tally, the settings, and the stores the baseline and new-source detectors need.</summary>
public sealed class DetectionContext
{
    public required WindowTally Tally { get; init; }
    public SweepWindow Window => Tally.Window;
    /// <summary>False while the window is still open (<c>POST sweeps/run</c>): its counts may still grow; learn nothing from it.</summary>
    public required bool WindowClosed { get; init; }
    public required DateTimeOffset Now { get; init; }
    public required AnomalyOptions Options { get; init; }
    /// <summary>The baselines of the window's hour (<see cref="IBaselineLookup"/>), for the baseline detectors.</summary>
    public required BaselineHour Baselines { get; init; }
    /// <summary>Sources each relay key was seen from before, for <c>new_source</c>; <see cref="NoKnownSources"/> until it is built.</summary>
    public required IKnownSourceStore KnownSources { get; init; }
    /// <summary>
    /// The sweep run this window belongs to, unique per run: while a run holds the lease no other instance writes, so a
    /// store may keep what it read for the rest of the run (and must read again in the next).
    /// </summary>
    public string RunId { get; init; } = "";

    /// <summary>A finding of this window with its deterministic id.</summary>
    public Finding NewFinding(string detector, string subject, string? tenant, double observed, double threshold, FindingSeverity severity,
        string summary, IReadOnlyDictionary<string, string>? details = null, double? baseline = null) => new()
    {
        Id = FindingId.For(detector, subject, Window),
        Detector = detector,
        Subject = subject,
        WindowStart = Window.Start,
        WindowEnd = Window.End,
        Tenant = tenant,
        Observed = observed,
        Baseline = baseline,
        Threshold = threshold,
        Severity = severity,
        Summary = summary,
        FoundAt = Now,
        Details = details,
    };

    /// <summary>Subjects as <see cref="Anomalies.Finding.Subject"/> names them.</summary>
    public static string RelayKeySubject(string relayKeyId) => "relay-key:" + relayKeyId;
    public static string ProviderKeySubject(string name, string version) => $"provider-key:{name}/{version}";
    public static string SourceSubject(string source) => "source:" + source;
    /// <summary>Every source together (a count over all of them).</summary>
    public const string AllSourcesSubject = "source:*";
}
