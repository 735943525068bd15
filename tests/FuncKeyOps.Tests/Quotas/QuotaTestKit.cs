using Azure.Data.Tables;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Quotas;

internal static class QuotaTestKit
{
    /// <summary>Monday 2026-11-23 08:00 UTC: 16 h to the daily reset, 7 d 16 h to the monthly one.</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    public static QuotaGate Gate(TableStore tables, TimeProvider time, ILoggerFactory? loggers = null, QuotaOptions? options = null) =>
        new(tables, Options.Create(options ?? new QuotaOptions()), time, (loggers ?? NullLoggerFactory.Instance).CreateLogger<QuotaGate>());

    public static RelayKey Key(string id = "key1", int? rpm = null, long? daily = null, long? monthly = null) => new()
    {
        Id = id,
        Tenant = "tenant1",
        Name = "test key",
        Rpm = rpm,
        DailyTokens = daily,
        MonthlyTokens = monthly,
    };

    public static TokenUsage Tokens(long total) => new(total, 0);

    public static async Task<TableEntity?> UsageRowAsync(TableStore tables, string keyId, string window)
    {
        var table = await tables.GetTableAsync(TableNames.Usage);
        return await table.TryGetAsync<TableEntity>(keyId, window);
    }

    public static async Task<long?> StoredTokensAsync(TableStore tables, string keyId, string window) =>
        (await UsageRowAsync(tables, keyId, window))?.GetInt64("Tokens");

    public static async Task<List<TableEntity>> AnomalyRowsAsync(TableStore tables)
    {
        var table = await tables.GetTableAsync(TableNames.Anomalies);
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>())
            rows.Add(row);
        return rows;
    }
}
