using System.Threading.Channels;

namespace FuncKeyOps.Alerts;

/// <summary>
/// Alerts taken from their publishers and not yet handed to <see cref="AlertSink"/>: in memory, one reader
/// (<see cref="AlertDeliveryService"/>), bounded so that a webhook down for long cannot grow it without end.
/// </summary>
internal sealed class AlertQueue
{
    /// <summary>Far above what rotations and schedules publish while a webhook retries (a few alerts per rotation step).</summary>
    public const int Capacity = 1000;

    private readonly Channel<Alert> _channel = Channel.CreateBounded<Alert>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>False when the queue is full (or the host is stopping): the alert is not kept.</summary>
    public bool TryAdd(Alert alert) => _channel.Writer.TryWrite(alert);

    public IAsyncEnumerable<Alert> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);
}
