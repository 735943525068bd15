using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace FuncKeyOps.Functions.Rotation;

/// <summary>The rotation orchestrator: a trigger only, the body is the library's.</summary>
public static class RotationOrchestratorFunction
{
    /// <remarks>The task hub is Azure Storage (host.json), whose timers are whole seconds.</remarks>
    [Function(RotationOrchestration.Name)]
    public static Task<RotationStatus> Run([OrchestrationTrigger] TaskOrchestrationContext context) =>
        RotationOrchestration.RunAsync(context, context.GetInput<RotationStepInput>()
            ?? throw new InvalidOperationException($"Orchestration {context.InstanceId} has no {nameof(RotationStepInput)} input."),
            RotationOrchestrationOptions.AzureStorage);
}
