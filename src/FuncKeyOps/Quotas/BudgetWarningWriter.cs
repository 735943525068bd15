using Azure.Data.Tables;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Quotas;

/// <summary>
/// Records the 80 % budget warning as an <c>anomalies</c> finding once per relay key and budget window, however
/// many instances see the crossing: the finding id is deterministic, so a second insert is a 409.
/// </summary>
internal sealed partial class BudgetWarningWriter(TableStore tables, ILogger logger)
{
    public const string Detector = "budget80";
    public const double Ratio = 0.8;

    public async Task RecordAsync(string keyId, UsageWindow window, long budget, long observed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partition = await ClaimPartitionAsync(keyId, window, now, cancellationToken).ConfigureAwait(false);
        var anomalies = await tables.GetTableAsync(TableNames.Anomalies, cancellationToken).ConfigureAwait(false);
        var finding = new TableEntity(partition, $"{Detector}-{keyId}-{window.RowKey}")
        {
            ["Detector"] = Detector,
            ["Subject"] = keyId,
            ["Window"] = window.RowKey,
            ["Observed"] = observed,
            ["Budget"] = budget,
            ["Severity"] = "warning",
            ["Time"] = now,
        };
        if (await anomalies.TryInsertAsync(finding, cancellationToken).ConfigureAwait(false))
            LogBudgetWarning(logger, keyId, observed, budget, window.RowKey);
    }

    // Findings are partitioned by the day they are seen, but a month spans many days: an instance that first sees
    // the crossing tomorrow (just started, say) would write a second finding under tomorrow. So the first instance
    // claims the day in a usage row of the key, and every instance writes the finding under the claimed day.
    private async Task<string> ClaimPartitionAsync(string keyId, UsageWindow window, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var usage = await tables.GetTableAsync(TableNames.Usage, cancellationToken).ConfigureAwait(false);
        var claim = new TableEntity(keyId, $"{Detector}-{window.RowKey}") { ["Partition"] = TableKeys.AnomalyPartition(now) };
        if (await usage.TryInsertAsync(claim, cancellationToken).ConfigureAwait(false))
            return claim.GetString("Partition");
        var existing = await usage.TryGetAsync<TableEntity>(claim.PartitionKey, claim.RowKey, cancellationToken).ConfigureAwait(false);
        return existing?.GetString("Partition") ?? claim.GetString("Partition");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay key {RelayKeyId} has used {Observed} of its {Budget} token budget in window {Window} (80 % warning)")]
    private static partial void LogBudgetWarning(ILogger logger, string relayKeyId, long observed, long budget, string window);
}
