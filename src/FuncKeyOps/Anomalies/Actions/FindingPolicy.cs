namespace FuncKeyOps.Anomalies.Actions;

/// <summary>Which action <c>Anomalies:Actions</c> asks for a finding.</summary>
internal static class FindingPolicy
{
    public static FindingAction Decide(Finding finding, FindingContainment containment)
    {
        var from = containment.For(finding.Detector);
        if (from == ContainFrom.Never || Rank(finding.Severity) < (int)from)
            return FindingAction.Alert;
        // What containing means follows from what the finding is about.
        if (FindingSubject.TryRelayKey(finding.Subject, out _))
            return FindingAction.Suspend;
        if (FindingSubject.TryProviderKey(finding.Subject, out _, out _))
            return FindingAction.Rotate;
        return FindingAction.Alert;
    }

    // Low = 1 .. High = 3, on the same scale as ContainFrom (Never = 0 contains nothing).
    private static int Rank(FindingSeverity severity) => severity switch
    {
        FindingSeverity.Low => (int)ContainFrom.Low,
        FindingSeverity.Medium => (int)ContainFrom.Medium,
        _ => (int)ContainFrom.High,
    };
}
