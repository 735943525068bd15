namespace FuncKeyOps.Rotation.Durable;

/// <summary>
/// The activity the rotation orchestration calls for each step: the one idempotent step call, so a retried or
/// replayed activity changes nothing twice.
/// </summary>
public sealed class RotationStepActivity(IRotationStepRunner runner)
{
    public const string Name = "RotationStep";

    public Task<RotationStepResult> RunAsync(RotationStepInput input, CancellationToken cancellationToken) =>
        runner.RunStepAsync(input.Rotation, input.Index, cancellationToken);
}
