using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Rotation;

/// <summary>The rotation's step activity: a trigger only, the step is the library's.</summary>
public sealed class RotationStepFunction(IRotationStepRunner runner)
{
    [Function(RotationStepActivity.Name)]
    public Task<RotationStepResult> Run([ActivityTrigger] RotationStepInput input, FunctionContext context) =>
        new RotationStepActivity(runner).RunAsync(input, context.CancellationToken);
}
