using System.Collections.Concurrent;
using FuncKeyOps.Anomalies;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>An <see cref="IFindingResponder"/> that keeps every finding handed to it, in order, and can hold a call until released.</summary>
internal sealed class RecordingResponder : IFindingResponder
{
    private readonly ConcurrentQueue<Finding> _findings = new();
    private int _retries;

    public IReadOnlyList<Finding> Findings => [.. _findings];
    public int Retries => Volatile.Read(ref _retries);

    /// <summary>Runs inside each <see cref="RespondAsync"/> after the finding is recorded (a test holds the runner there).</summary>
    public Func<Finding, Task>? OnRespond { get; set; }

    public async Task<Finding> RespondAsync(Finding finding, CancellationToken cancellationToken)
    {
        _findings.Enqueue(finding);
        if (OnRespond is { } hook)
            await hook(finding);
        return finding;
    }

    public Task RetryPendingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _retries);
        return Task.CompletedTask;
    }
}
