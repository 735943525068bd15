using System.Collections.Concurrent;
using FuncKeyOps.Alerts;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>An <see cref="IAlertSink"/> that records every alert published, and which it would send (one per dedupe key).</summary>
internal sealed class RecordingAlertSink : IAlertSink
{
    private readonly ConcurrentDictionary<string, Alert> _sent = new(StringComparer.Ordinal);

    public ConcurrentQueue<Alert> Published { get; } = new();

    public IReadOnlyCollection<Alert> Sent => _sent.Values.ToList();

    public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        Published.Enqueue(alert);
        _sent.TryAdd(alert.DedupeKey, alert);
        return Task.CompletedTask;
    }
}
