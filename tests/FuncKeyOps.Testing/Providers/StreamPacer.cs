using System.Collections.Concurrent;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// Lets a test step a streaming response one text chunk at a time: the fake waits for a
/// <see cref="Release"/> before writing each text delta and reports each one once it is flushed.
/// Events before the first delta (headers, stream start) go out unpaced so the client can connect;
/// events after the last delta (finish, usage, terminator) follow it without waiting.
/// </summary>
/// <remarks>Chunk numbers count every paced chunk written through this pacer, starting at 1, across all streams that use it.</remarks>
public sealed class StreamPacer
{
    private readonly SemaphoreSlim _permits = new(0);
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _sent = new();
    private int _sentCount;

    /// <summary>Number of paced chunks flushed so far.</summary>
    public int SentCount => Volatile.Read(ref _sentCount);

    /// <summary>Allows the next <paramref name="chunks"/> chunks to be written.</summary>
    public void Release(int chunks = 1) => _permits.Release(chunks);

    /// <summary>Completes once chunk number <paramref name="chunkNumber"/> (1-based) has been flushed to the client.</summary>
    public Task ChunkSent(int chunkNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkNumber, 1);
        return Signal(chunkNumber).Task;
    }

    internal Task WaitForPermissionAsync(CancellationToken ct) => _permits.WaitAsync(ct);

    internal void MarkSent() => Signal(Interlocked.Increment(ref _sentCount)).TrySetResult();

    private TaskCompletionSource Signal(int chunkNumber) =>
        _sent.GetOrAdd(chunkNumber, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
