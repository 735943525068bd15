namespace FuncKeyOps.Rotation;

/// <summary>
/// Columns of a <c>rotations</c> row (PartitionKey the key name, RowKey the rotation id) that more than one writer
/// touches: the step runner owns the plan's progress, the Server driver only the lease, each writing its own columns
/// with Merge and the row's ETag, so neither overwrites the other's.
/// </summary>
public static class RotationColumns
{
    /// <summary><see cref="RotationStatus"/> name (<c>Running</c>, ...).</summary>
    public const string Status = "Status";
    /// <summary>The index of the next step to run (int).</summary>
    public const string StepIndex = "StepIndex";
    /// <summary>When the next step may run (DateTimeOffset, UTC).</summary>
    public const string NextDue = "NextDue";
    /// <summary>The driver instance holding the row (string) and until when (DateTimeOffset); expired leases are free.</summary>
    public const string LeaseOwner = "LeaseOwner";
    public const string LeaseUntil = "LeaseUntil";
    /// <summary>
    /// The lease's fence token (long): one more with every lease taken, so each holder's writes can be told from an
    /// earlier holder's (<see cref="ProviderKeys.WriteFence"/>). Written by the Server driver only; read by the step runner.
    /// </summary>
    public const string LeaseFence = "LeaseFence";
    /// <summary>What the step at <see cref="StepIndex"/> waits for until <see cref="NextDue"/> (a staged value, a provider's answer); empty when it waits for nothing.</summary>
    public const string WaitingFor = "WaitingFor";
    /// <summary>Set by an abort request (bool); the next step run rolls back instead.</summary>
    public const string AbortRequested = "AbortRequested";
}
