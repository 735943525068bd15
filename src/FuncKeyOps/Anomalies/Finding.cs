namespace FuncKeyOps.Anomalies;

/// <summary>
/// What a detector found about one subject in one window. Its <see cref="Id"/> is deterministic
/// (<see cref="FindingId"/>): sweeping the same window again finds the same finding, never a second one.
/// Never holds a secret or a prompt.
/// </summary>
public sealed record Finding
{
    public required string Id { get; init; }
    /// <summary>One of <see cref="Detectors"/>.</summary>
    public required string Detector { get; init; }
    /// <summary>What it is about, as <c>{kind}:{id}</c>: <c>relay-key:{id}</c>, <c>provider-key:{name}/{version}</c>, <c>source:{address}</c>, <c>tenant:{name}</c>.</summary>
    public required string Subject { get; init; }
    /// <summary>The window (or, for shadow usage, the hour) the observation covers.</summary>
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public string? Tenant { get; init; }
    public required double Observed { get; init; }
    /// <summary>The baseline it was set against; null for the absolute detectors.</summary>
    public double? Baseline { get; init; }
    public required double Threshold { get; init; }
    public required FindingSeverity Severity { get; init; }
    /// <summary>A line an operator reads: what was seen against what, never a secret.</summary>
    public required string Summary { get; init; }
    /// <summary>What the policy asks  and what became of it.</summary>
    public FindingAction Action { get; init; } = FindingAction.Alert;
    public string? ActionOutcome { get; init; }
    public FindingStatus Status { get; init; } = FindingStatus.Open;
    public string? ChangedBy { get; init; }
    public DateTimeOffset? ChangedAt { get; init; }
    public required DateTimeOffset FoundAt { get; init; }
    /// <summary>Bounded extra facts (the provider key id, the gap, the sources): names and numbers only.</summary>
    public IReadOnlyDictionary<string, string>? Details { get; init; }
}

public enum FindingSeverity { Low, Medium, High }

public enum FindingStatus { Open, Acknowledged, Resolved }

/// <summary>What a finding's policy does (<c>Anomalies:Actions</c>); <c>Anomalies:Mode</c> observe records it and does nothing.</summary>
public enum FindingAction { Alert, Suspend, Rotate }
