using System.Collections.Concurrent;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The real step runner as a driver sees it, checking <see cref="RotationInvariants"/> after every step that returns.
/// A broken invariant is kept here as well as thrown: the Server driver catches a step's exception (it retries the
/// step later), so a test asserts <see cref="Violations"/> is empty instead of relying on the throw reaching it.
/// </summary>
internal sealed class CheckedStepRunner(RotationStepRunner runner, Func<RotationHost> host) : IRotationStepRunner
{
    public ConcurrentQueue<Exception> Violations { get; } = new();

    /// <summary>Every step that returned, in order, with its result.</summary>
    public ConcurrentQueue<(RotationId Rotation, int Index, RotationStepResult Result)> Steps { get; } = new();

    /// <summary>Runs after each step that returned and held the invariants, before the driver goes on (a test acts while a hold lasts).</summary>
    public Func<RotationId, int, RotationStepResult, Task>? AfterStep { get; set; }

    public Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken) =>
        CheckAsync(rotation, index, () => runner.RunStepAsync(rotation, index, cancellationToken));

    /// <summary>The Server driver's call: the step's writes fenced by its lease.</summary>
    public Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, long fence, CancellationToken cancellationToken) =>
        CheckAsync(rotation, index, () => runner.RunStepAsync(rotation, index, fence, cancellationToken));

    /// <summary>Told of each step's beginning and end (load tests attribute their calls by it).</summary>
    public WeightEpochs? Epochs { get; set; }

    private async Task<RotationStepResult> CheckAsync(RotationId rotation, int index, Func<Task<RotationStepResult>> step)
    {
        Epochs?.StepBegins();
        RotationStepResult result;
        try
        {
            result = await step();
        }
        finally
        {
            // Also after a step that threw: its writes, if any, are in the weights read here.
            if (Epochs is { } epochs)
                epochs.StepEnded((await host().Registry.GetAsync(rotation.KeyName))!.Weights);
        }
        try
        {
            await RotationInvariants.CheckAsync(host(), rotation, index, result);
        }
        catch (Exception e)
        {
            Violations.Enqueue(e);
            throw;
        }
        Steps.Enqueue((rotation, index, result));
        if (AfterStep is { } afterStep)
            await afterStep(rotation, index, result);
        return result;
    }
}
