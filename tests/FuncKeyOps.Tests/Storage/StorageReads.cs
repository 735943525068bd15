using Azure.Core;
using Azure.Core.Pipeline;

namespace FuncKeyOps.Tests.Storage;

/// <summary>
/// Watches one client's Table Storage reads (GETs: entity reads and queries): counts them, and can hold back the
/// answer of the next one after Azurite gave it, as a slow network would, so a test can act while a read that
/// already saw the old data is still on its way.
/// </summary>
internal sealed class StorageReads : HttpPipelinePolicy
{
    private readonly object _gate = new();
    private int _count;
    private TaskCompletionSource? _arrived;
    private TaskCompletionSource? _release;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Holds the answer of the next read until <see cref="Release"/>; completes when that answer is held.</summary>
    public Task HoldNext()
    {
        lock (_gate)
        {
            _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _arrived.Task;
        }
    }

    public void Release()
    {
        lock (_gate)
            _release?.TrySetResult();
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The caches read asynchronously.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (message.Request.Method != RequestMethod.Get)
        {
            await ProcessNextAsync(message, pipeline);
            return;
        }
        Interlocked.Increment(ref _count);
        Task? release = null;
        lock (_gate)
        {
            if (_arrived is { Task.IsCompleted: false } arrived)
            {
                release = _release!.Task;
                arrived.TrySetResult();
            }
        }
        await ProcessNextAsync(message, pipeline);
        if (release is not null)
            await release;
    }
}
