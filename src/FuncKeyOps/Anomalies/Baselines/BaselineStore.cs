using System.Globalization;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// The <c>baselines</c> table: per subject (PartitionKey), a row per hour-of-week (RowKey <c>000</c>-<c>167</c>)
/// and a <c>since</c> row saying when the subject was first seen, which the warm-up is counted from.
/// </summary>
internal sealed class BaselineStore(TableStore tables)
{
    internal const string SinceRow = "since";
    private const int ParallelWrites = 4;

    /// <summary>When each subject was first seen.</summary>
    public async Task<Dictionary<string, DateTimeOffset>> SinceAsync(CancellationToken cancellationToken = default)
    {
        var since = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {SinceRow}");
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
                var row = new TableEntity(Partition(item.Subject), SinceRow)
                {
                    [nameof(Baseline.Subject)] = item.Subject,
                    [nameof(Baseline.Since)] = item.Since,
                };
                while (!await table.TryInsertAsync(row, token).ConfigureAwait(false))
                {
                    var stored = await table.TryGetAsync<TableEntity>(row.PartitionKey, SinceRow, token).ConfigureAwait(false);
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

    /// <summary>Writes baselines, each replacing the subject's row of its hour-of-week: the same inputs write the same rows.</summary>
    public async Task WriteAsync(IEnumerable<Baseline> baselines, CancellationToken cancellationToken = default)
    {
        var table = await tables.GetTableAsync(TableNames.Baselines, cancellationToken).ConfigureAwait(false);
        await Parallel.ForEachAsync(
            baselines,
            new ParallelOptions { MaxDegreeOfParallelism = ParallelWrites, CancellationToken = cancellationToken },
            async (baseline, token) =>
            {
                await table.UpsertEntityAsync(ToEntity(baseline), TableUpdateMode.Replace, token).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>Every subject's baseline of one hour-of-week: what a sweep loads once for the windows of an hour.</summary>
    public async Task<Dictionary<string, Baseline>> ReadHourAsync(int hourOfWeek, CancellationToken cancellationToken = default)
    {
        var baselines = new Dictionary<string, Baseline>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RowKey(hourOfWeek)}");
        await foreach (var row in AuditQuery.ReadAsync(tables, TableNames.Baselines, filter, select: null, cancellationToken).ConfigureAwait(false))
        {
            if (FromEntity(row) is { } baseline)
                baselines[baseline.Subject] = baseline;
        }
        return baselines;
    }

    public static string RowKey(int hourOfWeek) => hourOfWeek.ToString("D3", CultureInfo.InvariantCulture);

    // Subjects are relay key ids and provider key names: escaped all the same, a key may not hold '/' or '#'.
    private static string Partition(string subject) => RollupKeys.Part(subject);

    private static TableEntity ToEntity(Baseline b) => new(Partition(b.Subject), RowKey(b.HourOfWeek))
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
            || !int.TryParse(row.RowKey, NumberStyles.None, CultureInfo.InvariantCulture, out var hourOfWeek)
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
