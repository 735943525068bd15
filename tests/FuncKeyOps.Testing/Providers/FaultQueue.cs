using System.Collections.Concurrent;

namespace FuncKeyOps.Testing.Providers;

/// <summary>What the fake does to a request instead of (or while) answering it normally.</summary>
internal abstract record Fault
{
    public sealed record Fail(int StatusCode, TimeSpan? RetryAfter) : Fault;

    public sealed record RequestTooLarge : Fault;

    public sealed record FailAsEventStream(int StatusCode) : Fault;

    public sealed record FailAndStall(int StatusCode) : Fault;

    public sealed record Hang : Fault;

    public sealed record Drop : Fault;

    public sealed record DropStreamAfter(int Chunks) : Fault;

    public sealed record StallStreamAfter(int Chunks) : Fault;
}

/// <summary>
/// Faults queued by the test, taken one per incoming request in the order they were queued,
/// so "FailNext(503); HangNext()" means the first request fails and the second hangs.
/// </summary>
internal sealed class FaultQueue
{
    private readonly ConcurrentQueue<Fault> _pending = new();

    public void Enqueue(Fault fault, int times)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(times, 1);
        for (var i = 0; i < times; i++)
        {
            _pending.Enqueue(fault);
        }
    }

    public Fault? TryTake() => _pending.TryDequeue(out var fault) ? fault : null;

    public int Count => _pending.Count;
}
