using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// The <c>baselines</c> table: a partition per hour-of-week (<c>h000</c>-<c>h167</c>) holding every subject's row of
/// that hour (RowKey the subject), and a <c>since</c> partition saying when each subject was first seen, which the
/// warm-up is counted from.
/// </summary>
/// <remarks>
/// By hour, not by subject: the sweep reads one hour-of-week of every subject at a time and the builder writes one, so
/// each is a single-partition read and transactions of 100 rows. By subject, the same read was a scan of the whole
/// table (2,000 keys hold 336,000 rows) filtered on RowKey, once an hour, and the write 2,000 single-row requests.
/// </remarks>
internal sealed class BaselineStore(TableStore tables)
{
    internal const string SincePartition = "since";
    private const string HourPrefix = "h";
    private const int ParallelWrites = 4;
    private const int MaxActionsPerTransaction = 100;

    /// <summary>When each subject was first seen.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> SinceAsync(CancellationToken cancellationToken = default)
    {
        var since = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {SincePartition}");
        await foreach (var row in AuditQuery.ReadAsync(tables, TableNames.Baselines, filter, [nameof(Baseline.Subject), nameof(Baseline.Since)], cancellationToken).ConfigureAwait(false))
        {
            if (row.GetString(nameof(Baseline.Subject)) is { } subject && row.GetDateTimeOffset(nameof(Baseline.Since)) is { } time)
                since[subject] = time;
        }
        return since;
    }

    /// <summary>
    /// Records first sightings: a subject's <c>since</c> only ever moves earlier (an older hour observed late), by an
    /// ETag-conditional replace, so two writers keep the earliest.
    /// </summary>
    public async Task RecordSinceAsync(IEnumerable<(string Subject, DateTimeOffset Since)> seen, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.Baselines, cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(
            seen,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (item, token) =>
            {
                var row = new TableEntity(SincePartition, SubjectKey(item.Subject))
                {
                    [nameof(Baseline.Subject)] = item.Subject,
                    [nameof(Baseline.Since)] = item.Since,
                };
                while (!await table.TryInsertAsync(row, token).ConfigureAwait(false))
                {
                    var stored = await table.TryGetAsync<TableEntity>(SincePartition, row.RowKey, token).ConfigureAwait(false);
                    if (stored is null)
                        continue; // deleted meanwhile (retention): insert again
                    if (stored.GetDateTimeOffset(nameof(Baseline.Since)) is { } time && time <= item.Since)
                        return;
                    stored[nameof(Baseline.Since)] = item.Since;
                    if (await table.TryReplaceAsync(stored, token).ConfigureAwait(false))
                        return;
                }
            }).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes baselines, each replacing the subject's row of its hour-of-week, an hour's rows in transactions: the same
    /// inputs write the same rows, so a transaction cut by a crash is whole when run again.
    /// </summary>
    public async Task WriteAsync(IEnumerable<Baseline> baselines, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.Baselines, cancellationToken).ConfigureAwait(false);
        var batches = baselines
            .Select(ToEntity)
            .GroupBy(row => row.PartitionKey, StringComparer.Ordinal)
            // A subject written twice in one call keeps its last row: a transaction may not name a row twice.
            .SelectMany(hour => hour.GroupBy(row => row.RowKey, StringComparer.Ordinal).Select(rows => rows.Last()).Chunk(MaxActionsPerTransaction));
        await Parallel.ForEachAsync(
            batches,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (batch, token) =>
            {
                await table.SubmitTransactionAsync(batch.Select(row => new TableTransactionAction(TableTransactionActionType.UpsertReplace, row)), token)
                    .ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>Every subject's baseline of one hour-of-week: what a sweep loads once for the windows of an hour.</summary>
    public async Task<Dictionary<string, Baseline>> ReadHourAsync(int hourOfWeek, CancellationToken cancellationToken = default)
    {
        var baselines = new Dictionary<string, Baseline>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {HourPartition(hourOfWeek)}");
        await foreach (var row in AuditQuery.ReadAsync(tables, TableNames.Baselines, filter, select: null, cancellationToken).ConfigureAwait(false))
        {
            if (FromEntity(row) is { } baseline)
                baselines[baseline.Subject] = baseline;
        }
        return baselines;
    }

    public static string HourPartition(int hourOfWeek) => HourPrefix + hourOfWeek.ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>A filter for every hour-of-week partition (not the <c>since</c> one).</summary>
    public static string HourPartitionsFilter => TableClient.CreateQueryFilter($"PartitionKey ge {HourPrefix} and PartitionKey lt {HourPrefix + "~"}");

    // Subjects are relay key ids and provider key names: escaped all the same, a key may not hold '/' or '#'.
    internal static string SubjectKey(string subject) => RollupKeys.Part(subject);

    private static TableEntity ToEntity(Baseline b) => new(HourPartition(b.HourOfWeek), SubjectKey(b.Subject))
    {
        [nameof(Baseline.Subject)] = b.Subject,
        [nameof(Baseline.Hour)] = b.Hour,
        [nameof(Baseline.Since)] = b.Since,
        [nameof(Baseline.Method)] = b.Method.ToString(),
        [nameof(Baseline.Samples)] = b.Samples,
        ["CallsMedian"] = b.Calls.Median,
        ["CallsMad"] = b.Calls.Mad,
        ["TokensMedian"] = b.Tokens.Median,
        ["TokensMad"] = b.Tokens.Mad,
        ["ErrorsMedian"] = b.Errors.Median,
        ["ErrorsMad"] = b.Errors.Mad,
    };

    private static Baseline? FromEntity(TableEntity row)
    {
        if (row.GetString(nameof(Baseline.Subject)) is not { } subject
            || !row.PartitionKey.StartsWith(HourPrefix, StringComparison.Ordinal)
            || !int.TryParse(row.PartitionKey.AsSpan(HourPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var hourOfWeek)
            || row.GetDateTimeOffset(nameof(Baseline.Hour)) is not { } hour
            || row.GetDateTimeOffset(nameof(Baseline.Since)) is not { } since
            || !Enum.TryParse<BaselineMethod>(row.GetString(nameof(Baseline.Method)), out var method))
            return null;
        return new Baseline(
            subject, hourOfWeek, hour, since, method, row.GetInt32(nameof(Baseline.Samples)) ?? 0,
            new BaselineStat(row.GetDouble("CallsMedian") ?? 0, row.GetDouble("CallsMad") ?? 0),
            new BaselineStat(row.GetDouble("TokensMedian") ?? 0, row.GetDouble("TokensMad") ?? 0),
            new BaselineStat(row.GetDouble("ErrorsMedian") ?? 0, row.GetDouble("ErrorsMad") ?? 0));
    }
}
