using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Rotation;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>Rows and table reads the rollup tests share.</summary>
internal static class RollupRows
{
    /// <summary>A projected audit row of a relayed call, as the sweep reads it.</summary>
    public static SweepRow Call(
        DateTimeOffset time,
        string? providerKey = "pk-a",
        string? version = "v1",
        string? relayKey = "rk-1",
        string? model = "m-1",
        int status = 200,
        long? input = 10,
        long? output = 5,
        decimal? cost = 0.001m,
        int? attempt = null,
        string? errorCode = null,
        string? tenant = "tenant-a",
        string? source = "203.0.113.7") => new()
    {
        Time = time,
        Tenant = tenant,
        RelayKeyId = relayKey,
        Provider = "openai",
        ProviderKeyName = providerKey,
        ProviderKeyVersion = version,
        Model = model,
        Status = status,
        InputTokens = input,
        OutputTokens = output,
        CostEstimateUsd = cost,
        SourceIp = source,
        ErrorCode = errorCode,
        Attempt = attempt,
    };

    /// <summary>Every row of the rollups table as text, system columns left out: what two runs are compared by.</summary>
    public static async Task<List<string>> DumpAsync(TableStore tables, string logicalName = TableNames.Rollups)
    {
        var table = tables.Service.GetTableClient(tables.PhysicalName(logicalName));
        var rows = new List<string>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>())
            {
                var columns = row.Keys
                    .Where(k => k is not ("odata.etag" or "Timestamp" or "PartitionKey" or "RowKey"))
                    .OrderBy(k => k, StringComparer.Ordinal)
                    .Select(k => k + "=" + row[k]);
                rows.Add(row.PartitionKey + "/" + row.RowKey + " " + string.Join(" ", columns));
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}

/// <summary>
/// Fails one chosen write (a request other than a read) to the rollups table, before it is sent or after it was
/// (the write done, its answer lost): the crash of a writer at that point.
/// </summary>
internal sealed class CrashAtWrite : HttpPipelinePolicy
{
    private int _writes;

    /// <summary>1-based number of the write to fail; 0 fails none.</summary>
    public int At { get; set; }

    public bool AfterSending { get; set; }

    /// <summary>Writes seen since the last reset.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public void Reset(int at, bool afterSending)
    {
        Volatile.Write(ref _writes, 0);
        At = at;
        AfterSending = afterSending;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The store writes asynchronously.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var path = message.Request.Uri.Path;
        var write = message.Request.Method != RequestMethod.Get
            && (path.Contains(TableNames.Rollups, StringComparison.Ordinal) || path.EndsWith("$batch", StringComparison.Ordinal));
        var crash = write && Interlocked.Increment(ref _writes) == At;
        if (crash && !AfterSending)
            throw new SimulatedCrash("a rollup write");
        await ProcessNextAsync(message, pipeline);
        if (crash)
            throw new SimulatedCrash("a rollup write");
    }
}

/// <summary>Each table query on the wire: its table, its filter, and the rows its page brought.</summary>
internal sealed class TableReads : HttpPipelinePolicy
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Path, string Query, int Rows)> _reads = new();

    public IReadOnlyCollection<(string Path, string Query, int Rows)> Reads => _reads;

    public void Clear() => _reads.Clear();

    /// <summary>Rows read from tables whose name contains <paramref name="table"/>, by queries whose filter contains <paramref name="filter"/>.</summary>
    public int Rows(string table, string filter = "") =>
        _reads.Where(r => r.Path.Contains(table, StringComparison.Ordinal) && r.Query.Contains(filter, StringComparison.Ordinal)).Sum(r => r.Rows);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The queries read asynchronously.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        if (message.Request.Method != RequestMethod.Get)
            return;
        var rows = 0;
        if (message.Response.Status == 200 && message.Response.Content is { } content)
        {
            using var page = System.Text.Json.JsonDocument.Parse(content.ToMemory());
            rows = page.RootElement.TryGetProperty("value", out var value) ? value.GetArrayLength() : 1;
        }
        _reads.Enqueue((message.Request.Uri.Path, Uri.UnescapeDataString(message.Request.Uri.Query), rows));
    }
}
