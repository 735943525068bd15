using Azure;

namespace FuncKeyOps.Rotation;

/// <summary>One row of the <c>rotations</c> table: a rotation's plan and how far it got. Never holds a key value.</summary>
public sealed record RotationRecord
{
    public required string KeyName { get; init; }
    public required string Id { get; init; }
    public RotationStatus Status { get; init; } = RotationStatus.Running;
    /// <summary>The step the rotation runs next (<see cref="RotationColumns.StepIndex"/>).</summary>
    public int StepIndex { get; init; }
    /// <summary>Not before this may the step at <see cref="StepIndex"/> run (a hold, a grace, a poll).</summary>
    public DateTimeOffset NextDue { get; init; }
    /// <summary>What the step at <see cref="StepIndex"/> waits for (for operators, never a value); null when it only waits out a hold.</summary>
    public string? WaitingFor { get; init; }
    public bool AbortRequested { get; init; }
    public required RotationPlan Plan { get; init; }
    public RotationStrategy Strategy { get; init; }
    public string Reason { get; init; } = "";
    /// <summary><c>admin</c>, <c>schedule</c> or <c>anomaly</c>.</summary>
    public string Trigger { get; init; } = "admin";
    /// <summary>The version that served when the rotation started; null when none did.</summary>
    public string? OldVersion { get; init; }
    /// <summary>The version the rotation created or claimed; null until its create step ran.</summary>
    public string? NewVersion { get; init; }
    /// <summary>The secret's versions when the rotation started: a pending version not among them is the operator's staged value.</summary>
    public IReadOnlyList<string> PriorVersions { get; init; } = [];
    public IReadOnlyList<RotationHistoryEntry> History { get; init; } = [];
    /// <summary>Emergency: when the compromised version stopped serving, and when the successor took all traffic.</summary>
    public DateTimeOffset? WindowStart { get; init; }
    public DateTimeOffset? WindowEnd { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    internal ETag ETag { get; init; }

    /// <summary>The Server driver's fence token on the row (<see cref="RotationColumns.LeaseFence"/>); 0 when never leased.</summary>
    internal long LeaseFence { get; init; }

    public RotationId RotationId => new(KeyName, Id);
    public bool IsFinal => Status != RotationStatus.Running;
}

/// <summary>A completed step: what it did and the result the driver got (returned again for a re-run of it).</summary>
/// <param name="Result">What happened, for operators (never a value).</param>
public sealed record RotationHistoryEntry(int Index, string Step, string Result, DateTimeOffset Time, RotationStatus Status, int? NextIndex, TimeSpan Wait)
{
    public RotationStepResult ToStepResult() => new(Status, NextIndex, Wait);
}
