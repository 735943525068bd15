using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Alerts;

/// <summary>
/// The <see cref="IAlertSink"/> the library's callers get: it takes the alert and returns at once, leaving the ledger,
/// the webhook and its retries (up to <c>Alerts:Resilience</c>'s total) to <see cref="AlertDeliveryService"/>. So a
/// webhook that is down or slow never holds up, or fails, a rotation's start or step: alerts go out on their own time.
/// </summary>
internal sealed partial class QueuedAlertSink(AlertQueue queue, ILogger<QueuedAlertSink> logger) : IAlertSink
{
    public Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!queue.TryAdd(alert))
            LogDropped(logger, alert.Kind, alert.Subject, alert.Message, alert.DedupeKey);
        return Task.CompletedTask;
    }

    // The alert's own text, so that an operator still learns of it from the log.
    [LoggerMessage(Level = LogLevel.Error, Message = "Alert {Kind} for {Subject} was not sent: {AlertCapacity} alerts already wait for delivery (is the webhook down?): {Message} (dedupe key {DedupeKey})")]
    private static partial void LogDroppedCore(ILogger logger, string kind, string subject, int alertCapacity, string message, string dedupeKey);

    private static void LogDropped(ILogger logger, string kind, string subject, string message, string dedupeKey) =>
        LogDroppedCore(logger, kind, subject, AlertQueue.Capacity, message, dedupeKey);
}
