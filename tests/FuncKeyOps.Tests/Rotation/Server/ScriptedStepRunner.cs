using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Rotation;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// A step runner for driver tests that writes the rotations row as the real one does: each step merges
/// <c>StepIndex</c>, <c>NextDue</c> and <c>Status</c> with the row's ETag (retrying on a 412), and a step the row has
/// already passed writes nothing. Records every call and how many ran at once; a test can hold a step mid-way.
/// </summary>
internal sealed class ScriptedStepRunner(TableStore tables, TimeProvider time, int steps, TimeSpan wait) : IRotationStepRunner
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _holds = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _frozen = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _completed = new();
    private readonly ConcurrentDictionary<int, byte> _failures = new();
    private int _inFlight;
    private int _maxInFlight;

    public ConcurrentQueue<(RotationId Rotation, int Index)> Runs { get; } = new();

    /// <summary>The most steps that ran at the same time.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Makes step <paramref name="index"/> wait, after it started and before its write, until <see cref="Release"/> or its token.</summary>
    public void Hold(int index) => Signal(_holds, index);

    /// <summary>As <see cref="Hold"/>, but deaf to the token: a process frozen mid-step (a long GC, a paused VM) until <see cref="Release"/>.</summary>
    public void Freeze(int index) => Signal(_frozen, index);

    public void Release(int index)
    {
        Signal(_holds, index).TrySetResult();
        Signal(_frozen, index).TrySetResult();
    }

    /// <summary>Makes the next run of step <paramref name="index"/> throw before it writes anything.</summary>
    public void FailOnce(int index) => _failures[index] = 0;

    public Task Started(int index) => Signal(_started, index).Task;

    /// <summary>Completes when step <paramref name="index"/> has written the row.</summary>
    public Task Completed(int index) => Signal(_completed, index).Task;

    public async Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            InterlockedMax(ref _maxInFlight, inFlight);
            Runs.Enqueue((rotation, index));
            Signal(_started, index).TrySetResult();
            if (_holds.TryGetValue(index, out var hold))
                await hold.Task.WaitAsync(cancellationToken);
            if (_frozen.TryGetValue(index, out var frozen))
                await frozen.Task;
            if (_failures.TryRemove(index, out _))
                throw new InvalidOperationException("scripted step failure");
            var result = await WriteAsync(rotation, index, cancellationToken);
            Signal(_completed, index).TrySetResult();
            return result;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<RotationStepResult> WriteAsync(RotationId rotation, int index, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Rotations, cancellationToken);
        var next = index + 1;
        var status = next == steps ? RotationStatus.Succeeded : RotationStatus.Running;
        var result = status == RotationStatus.Running ? RotationStepResult.Next(next, wait) : RotationStepResult.Finished(status);
        while (true)
        {
            var row = (await table.GetEntityAsync<TableEntity>(rotation.KeyName, rotation.Id, cancellationToken: cancellationToken)).Value;
            if (row.GetInt32(RotationColumns.StepIndex) != index)
                return result; // already ran: the recorded result, nothing written
            var update = new TableEntity(rotation.KeyName, rotation.Id)
            {
                [RotationColumns.StepIndex] = next,
                [RotationColumns.NextDue] = time.GetUtcNow() + wait,
                [RotationColumns.Status] = status.ToString(),
            };
            try
            {
                await table.UpdateEntityAsync(update, row.ETag, TableUpdateMode.Merge, cancellationToken);
                return result;
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                // The driver renewed its lease meanwhile: read again.
            }
        }
    }

    private static TaskCompletionSource Signal(ConcurrentDictionary<int, TaskCompletionSource> signals, int index) =>
        signals.GetOrAdd(index, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private static void InterlockedMax(ref int target, int value)
    {
        for (var current = Volatile.Read(ref target); value > current; current = Volatile.Read(ref target))
        {
            if (Interlocked.CompareExchange(ref target, value, current) == current)
                return;
        }
    }
}
