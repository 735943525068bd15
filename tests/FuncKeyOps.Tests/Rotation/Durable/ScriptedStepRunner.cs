using System.Collections.Concurrent;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// A step runner playing a plan: step i's result is <c>script[i]</c>. Records every call in order and how often each
/// step completed (answered its result); can fail once right after a step's write (a crash between write and
/// answer: the real runner's re-run then finds the write done); rolls back once aborted.
/// </summary>
public sealed class ScriptedStepRunner(IReadOnlyList<RotationStepResult> script) : IRotationStepRunner
{
    private readonly ConcurrentQueue<int> _calls = new();
    private readonly ConcurrentQueue<TimeSpan> _callTimes = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly ConcurrentDictionary<int, int> _completions = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _called = new();
    private readonly ConcurrentDictionary<int, int> _failuresLeft = new();
    private volatile bool _aborted;

    /// <summary>The result a call gets once <see cref="Abort"/> was called (the real runner reads the row's flag).</summary>
    public static readonly RotationStepResult RolledBack = RotationStepResult.Finished(RotationStatus.Aborted);

    /// <summary>Step indexes in the order the runner was called (retries and re-runs included).</summary>
    public IReadOnlyList<int> Calls => [.. _calls];

    /// <summary>When each call of <see cref="Calls"/> came, since the runner was made.</summary>
    public IReadOnlyList<TimeSpan> CallTimes => [.. _callTimes];

    /// <summary>How many calls of each step answered its result: more than 1 means a finished step was run again.</summary>
    public IReadOnlyDictionary<int, int> Completions => _completions;

    /// <summary>Makes the first <paramref name="times"/> calls of step <paramref name="index"/> throw as if the
    /// answer was lost after the step's write.</summary>
    public void FailAfterWrite(int index, int times = 1) => _failuresLeft[index] = times;

    /// <summary>Records the abort as an admin call writes it on the row: the next call rolls back.</summary>
    public void Abort() => _aborted = true;

    /// <summary>Completes when step <paramref name="index"/> is first called.</summary>
    public Task Called(int index) => Signal(index).Task;

    public Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken)
    {
        _callTimes.Enqueue(_clock.Elapsed);
        _calls.Enqueue(index);
        Signal(index).TrySetResult();
        if (_aborted)
            return Task.FromResult(RolledBack);
        if (_failuresLeft.TryGetValue(index, out var left) && left > 0 && _failuresLeft.TryUpdate(index, left - 1, left))
            throw new TimeoutException($"Step {index}: the answer was lost after the write.");
        _completions.AddOrUpdate(index, 1, (_, count) => count + 1);
        return Task.FromResult(script[index]);
    }

    private TaskCompletionSource Signal(int index) =>
        _called.GetOrAdd(index, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
