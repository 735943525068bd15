using System.Collections.Concurrent;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// A host's real <see cref="RotationStepRunner"/> as the Durable step activity calls it: records every call, checks
/// <see cref="RotationInvariants"/> after every step that answered, signals each completed step, and can hold a step
/// back until the test lets it run (traffic sent during a hold, before the analysis reads it).
/// </summary>
/// <remarks>
/// A broken invariant is recorded, not thrown: thrown inside the activity it would only be retried by the
/// orchestration's retry policy, and the test would see a timeout instead of the invariant's message.
/// </remarks>
internal sealed class CheckedStepRunner(RotationHost host) : IRotationStepRunner
{
    private readonly ConcurrentQueue<int> _calls = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _completed = new();
    private readonly ConcurrentDictionary<int, Task> _gates = new();

    /// <summary>Step indexes in the order the activity ran them, retries included.</summary>
    public IReadOnlyList<int> Calls => [.. _calls];

    /// <summary>What <see cref="RotationInvariants"/> found broken, after which step.</summary>
    public IReadOnlyList<string> Violations => [.. _violations];

    /// <summary>Completes when step <paramref name="index"/> first answered (its invariants checked).</summary>
    public Task Completed(int index) => Signal(index).Task;

    /// <summary>Runs (inside the activity, after the invariants) when a step asks to be run again: a poll, e.g. for an
    /// operator's staged value. Staging from here, not beside the engine, keeps it out of the invariants' re-run.</summary>
    public Func<int, Task>? OnWait { get; set; }

    /// <summary>Step <paramref name="index"/> runs only once <paramref name="gate"/> completes.</summary>
    public void HoldBack(int index, Task gate) => _gates[index] = gate;

    /// <summary>Told of each step's beginning (after its hold-back) and end (load tests attribute their calls by it).</summary>
    public WeightEpochs? Epochs { get; set; }

    public async Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken)
    {
        _calls.Enqueue(index);
        if (_gates.TryGetValue(index, out var gate))
            await gate.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        Epochs?.StepBegins();
        RotationStepResult result;
        try
        {
            result = await host.Runner.RunStepAsync(rotation, index, cancellationToken);
        }
        finally
        {
            // Also after a failed step (retried by the orchestration): its writes, if any, are in the weights read here.
            if (Epochs is { } epochs)
                epochs.StepEnded((await host.Registry.GetAsync(rotation.KeyName))!.Weights);
        }
        try
        {
            await RotationInvariants.CheckAsync(host, rotation, index, result);
        }
        catch (Exception broken)
        {
            _violations.Enqueue($"step {index}: {broken.Message}");
        }
        if (result.NextIndex == index && OnWait is not null)
            await OnWait(index);
        Signal(index).TrySetResult();
        return result;
    }

    private TaskCompletionSource Signal(int index) =>
        _completed.GetOrAdd(index, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
