using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace FuncKeyOps.Functions.Rotation;

/// <summary>The rotation orchestrator and its step activity: triggers only, the behaviour is the library's.</summary>
public sealed class RotationOrchestratorFunction(RotationStepActivity activity)
{
    [Function(RotationOrchestration.Name)]
    public static Task<RotationStatus> Orchestrate([OrchestrationTrigger] TaskOrchestrationContext context) =>
        RotationOrchestration.RunAsync(context, context.GetInput<RotationStepInput>()
            ?? throw new InvalidOperationException($"Orchestration {context.InstanceId} has no {nameof(RotationStepInput)} input."));

    [Function(RotationStepActivity.Name)]
    public Task<RotationStepResult> RunStep([ActivityTrigger] RotationStepInput input, FunctionContext context) =>
        activity.RunAsync(input, context.CancellationToken);
}
