using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Alerts;

/// <summary>
/// The delivery behind <see cref="QueuedAlertSink"/>: deduplicated through the <see cref="AlertLedger"/>, delivered to the webhook when
/// its secret exists, else written to the log. Never throws into the caller's step (a rotation must not fail
/// because an alert could not go out): a failed delivery is logged at Warning, without the URL (a secret), and the
/// alert stays unsent in the <c>alerts</c> table, delivered by the next publish of its dedupe key.
/// </summary>
internal sealed partial class AlertSink(AlertLedger ledger, AlertWebhook webhook, ILogger<AlertSink> logger) : IAlertSink
{
    public async Task PublishAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        TableEntity? claim;
        try
        {
            claim = await ledger.TryClaimAsync(alert, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageReadFailure.Is(e))
        {
            // Without the ledger a duplicate is possible but a lost alert is worse: deliver anyway.
            LogLedgerUnavailable(logger, alert.Kind, alert.Subject, e.GetType().Name, (e as RequestFailedException)?.Status);
            await DeliverAsync(alert, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (claim is null)
            return; // delivered already, or being delivered by another publisher right now

        var delivered = await DeliverAsync(alert, cancellationToken).ConfigureAwait(false);
        try
        {
            if (delivered)
                await ledger.MarkSentAsync(claim, cancellationToken).ConfigureAwait(false);
            else
                await ledger.ReleaseAsync(claim, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (StorageReadFailure.Is(e))
        {
            // Delivered but not marked: the next publish of the key may send it once more (after the claim timeout).
            LogLedgerUnavailable(logger, alert.Kind, alert.Subject, e.GetType().Name, (e as RequestFailedException)?.Status);
        }
    }

    private async Task<bool> DeliverAsync(Alert alert, CancellationToken cancellationToken)
    {
        Uri? url;
        try
        {
            url = await webhook.FindUrlAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogDeliveryFailed(logger, alert.Kind, alert.Subject, alert.DedupeKey, "webhook secret unreadable: " + e.GetType().Name);
            return false;
        }
        if (url is null)
        {
            // The log sink. Warning, not Information: an alert is for an operator, and Application Insights keeps
            // only Warning and above by default.
            LogAlert(logger, alert.Kind, alert.Subject, alert.Message, alert.DedupeKey);
            return true;
        }
        try
        {
            await webhook.SendAsync(url, alert, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // The exception is not logged: its message and inner exceptions may carry the URL.
            var reason = e is HttpRequestException { StatusCode: { } status } ? $"status {(int)status}" : e.GetType().Name;
            LogDeliveryFailed(logger, alert.Kind, alert.Subject, alert.DedupeKey, reason);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} for {Subject}: {Message} (dedupe key {DedupeKey})")]
    private static partial void LogAlert(ILogger logger, string kind, string subject, string message, string dedupeKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} for {Subject} could not be sent to the webhook ({Reason}); the next publish of dedupe key {DedupeKey} sends it (it stays unsent in the alerts table)")]
    private static partial void LogDeliveryFailed(ILogger logger, string kind, string subject, string dedupeKey, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} for {Subject}: the alerts table is unavailable ({ErrorType}, status {Status}), so it may be delivered twice")]
    private static partial void LogLedgerUnavailable(ILogger logger, string kind, string subject, string errorType, int? status);
}
