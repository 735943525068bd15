using System.Collections.Concurrent;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>An <see cref="IRotationStarter"/> that records requests; a key it has started answers AlreadyRunning after.</summary>
internal sealed class RecordingRotationStarter : IRotationStarter
{
    private readonly ConcurrentDictionary<string, RotationId> _running = new(StringComparer.Ordinal);

    public ConcurrentQueue<RotationRequest> Requests { get; } = new();

    public Task<RotationStart> StartAsync(RotationRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        var started = new RotationId(request.KeyName, Guid.NewGuid().ToString("N"));
        var running = _running.GetOrAdd(request.KeyName, started);
        return Task.FromResult(new RotationStart(running == started ? RotationStartOutcome.Started : RotationStartOutcome.AlreadyRunning, running));
    }
}
