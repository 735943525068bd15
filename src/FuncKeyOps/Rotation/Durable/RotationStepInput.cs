namespace FuncKeyOps.Rotation.Durable;

/// <summary>
/// A rotation at one step of its plan: the step activity's input (the step to run) and the orchestration's input
/// (the step to start from: 0 when scheduled, later after <c>ContinueAsNew</c>).
/// </summary>
public sealed record RotationStepInput(RotationId Rotation, int Index);
