namespace FuncKeyOps.Rotation;

/// <summary>
/// What a driver does after a step: run <see cref="NextIndex"/> once <see cref="Wait"/> has passed (a hold, a
/// grace, a poll for an operator's staged value; the same index again while waiting), or stop when
/// <see cref="Status"/> is final. A rollback is not a separate path for the drivers: the step that decides it
/// returns the index of the plan's rollback steps.
/// </summary>
public sealed record RotationStepResult(RotationStatus Status, int? NextIndex, TimeSpan Wait)
{
    public bool IsFinal => Status != RotationStatus.Running;

    public static RotationStepResult Finished(RotationStatus status) => new(status, null, TimeSpan.Zero);

    public static RotationStepResult Next(int index, TimeSpan wait) => new(RotationStatus.Running, index, wait);
}
