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
    /// <summary>What the policy asks (<c>Anomalies:Actions</c>); every finding is also alerted once.</summary>
    public FindingAction Action { get; init; } = FindingAction.Alert;
    /// <summary>Where <see cref="Action"/> stands: planned, being taken, taken, left alone, failed (retried next sweep) or only observed.</summary>
    public FindingActionState ActionState { get; init; } = FindingActionState.Pending;
    /// <summary>What became of the action, in words an operator reads (never a secret).</summary>
    public string? ActionOutcome { get; init; }
    /// <summary>Attempts at <see cref="Action"/> so far; a retry after a failure or a crash counts one more.</summary>
    public int ActionAttempts { get; init; }
    /// <summary>When the action was first attempted: its admin-trail row carries this time, however often it is retried.</summary>
    public DateTimeOffset? ActionStartedAt { get; init; }
    /// <summary>When the current attempt began; an attempt older than the claim timeout was cut short (a crash) and may be taken over.</summary>
    public DateTimeOffset? ActionAttemptedAt { get; init; }
    /// <summary>The finding's one alert has been handed to the alert sink.</summary>
    public bool Alerted { get; init; }
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

/// <summary>
/// A finding's action from plan to outcome. <see cref="Pending"/>, <see cref="Acting"/> past its claim and
/// <see cref="Failed"/> are taken (again) by the next respond or retry; the others are final.
/// </summary>
public enum FindingActionState
{
    /// <summary>Stored with its planned action, not attempted yet.</summary>
    Pending,
    /// <summary>An attempt claimed it (<see cref="Finding.ActionAttemptedAt"/>) and has not recorded its outcome.</summary>
    Acting,
    /// <summary>Done: the key suspended, the rotation started, or (for <see cref="FindingAction.Alert"/>) the alert handed over.</summary>
    Taken,
    /// <summary>Nothing to do or not ours to do: the key is gone or revoked, another rotation runs; the outcome says which.</summary>
    Skipped,
    /// <summary>The last attempt failed (storage, vault, provider); retried by the next sweep.</summary>
    Failed,
    /// <summary><c>Anomalies:Mode</c> observe: recorded what would have been done; nothing was done.</summary>
    Observed,
}
