namespace FuncKeyOps.Rotation;

/// <summary>
/// The one step call both drivers make (the Durable orchestrator through an activity, the Server driver after
/// leasing the row). Idempotent: running a step that already completed returns its recorded result and writes
/// nothing; a step interrupted by a crash, run again, reaches the same end state. An abort requested on the row
/// makes the next call run the rollback instead of the step asked for.
/// </summary>
public interface IRotationStepRunner
{
    Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="RunStepAsync(RotationId, int, CancellationToken)"/>, for a driver holding the row's lease with fence
    /// token <paramref name="fence"/> (<see cref="RotationColumns.LeaseFence"/>): the step's table writes are fenced
    /// (<see cref="ProviderKeys.WriteFence"/>), so once another driver has taken the row over, none of them lands;
    /// the step throws <see cref="ProviderKeys.FencedOutException"/> instead.
    /// </summary>
    Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, long fence, CancellationToken cancellationToken) =>
        RunStepAsync(rotation, index, cancellationToken);
}
