using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Alerts;

/// <summary>
/// The <c>alerts</c> table as the dedupe record, shared by every instance and surviving restarts. A publisher
/// first claims the alert's row (insert-if-absent, keyed by the dedupe key), delivers, then marks it sent. So a
/// delivered alert is never sent again, and one claimed but not delivered (a crash, a webhook down) stays in the
/// table unsent and is delivered by the next publish of the same key once its claim is released or expired.
/// </summary>
internal sealed class AlertLedger(TableStore tables, IOptions<AlertOptions> options, TimeProvider time)
{
    /// <summary>The row to deliver under, or null when the alert was delivered already or another publisher is delivering it now.</summary>
    public async Task<TableEntity?> TryClaimAsync(Alert alert, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Alerts, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var row = AlertRow.New(alert, now + options.Value.ClaimTimeout);
        if (await table.TryInsertAsync(row, cancellationToken).ConfigureAwait(false))
            return row;

        var existing = await table.TryGetAsync<TableEntity>(row.PartitionKey, row.RowKey, cancellationToken).ConfigureAwait(false);
        if (existing is null || existing.GetBoolean(AlertRow.Sent) == true || existing.GetDateTimeOffset(AlertRow.ClaimedUntil) > now)
            return null;
        // Unsent and unclaimed: take it over by ETag, so of two publishers retrying at once only one sends.
        var claim = new TableEntity(existing.PartitionKey, existing.RowKey) { [AlertRow.ClaimedUntil] = now + options.Value.ClaimTimeout };
        try
        {
            var response = await table.UpdateEntityAsync(claim, existing.ETag, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
            claim.ETag = response.Headers.ETag ?? existing.ETag;
            return claim;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return null;
        }
    }

    public Task MarkSentAsync(TableEntity claim, CancellationToken cancellationToken) =>
        MergeAsync(new TableEntity(claim.PartitionKey, claim.RowKey) { [AlertRow.Sent] = true }, cancellationToken);

    /// <summary>Gives up the claim after a failed delivery, so the next publish of the key sends at once instead of after the claim timeout.</summary>
    public Task ReleaseAsync(TableEntity claim, CancellationToken cancellationToken) =>
        MergeAsync(new TableEntity(claim.PartitionKey, claim.RowKey) { [AlertRow.ClaimedUntil] = DateTimeOffset.UnixEpoch }, cancellationToken);

    private async Task MergeAsync(TableEntity change, CancellationToken cancellationToken)
    {
        var table = await tables.GetTableAsync(TableNames.Alerts, cancellationToken).ConfigureAwait(false);
        await table.UpdateEntityAsync(change, ETag.All, TableUpdateMode.Merge, cancellationToken).ConfigureAwait(false);
    }
}
