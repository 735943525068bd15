using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Alerts;

/// <summary>
/// Hands the queued alerts to <see cref="AlertSink"/> (dedupe ledger, webhook or log) one at a time, in the order they
/// were published. An alert still queued when the process ends is lost; one whose delivery failed stays unsent in the
/// <c>alerts</c> table, sent by the next publish of its dedupe key.
/// </summary>
internal sealed partial class AlertDeliveryService(AlertQueue queue, AlertSink sink, ILogger<AlertDeliveryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var alert in queue.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await sink.PublishAsync(alert, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogDeliveryFailed(logger, alert.Kind, alert.Subject, alert.DedupeKey, e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    // The exception itself is not logged: it may carry the webhook URL, a secret.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} for {Subject} could not be delivered ({ErrorType}); the next publish of dedupe key {DedupeKey} sends it")]
    private static partial void LogDeliveryFailed(ILogger logger, string kind, string subject, string dedupeKey, string errorType);
}
