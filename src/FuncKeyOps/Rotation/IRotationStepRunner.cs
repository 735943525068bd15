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
}
