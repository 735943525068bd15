using System.Globalization;

namespace FuncKeyOps.Storage;

/// <summary>Partition and row key formats shared by writers and readers.</summary>
public static class TableKeys
{
    public const string RelayKeyPartition = "client";
    public const string ProviderPartition = "provider";
    public const string PoolPartition = "pool";

    /// <summary>
    /// <c>yyyyMMddHHmm-{shard}</c>, the shard being the second within the minute and a hash shard (<c>ssNN</c>):
    /// a sweep still reads exactly its minutes, and a partition holds one second of one shard at most, however
    /// busy the relay. Small partitions spread load on Table Storage, and on Azurite (dev, tests) they are what
    /// keeps a write cheap: it looks each written row up by scanning the row's partition.
    /// </summary>
    public static string AuditPartition(DateTimeOffset time, int shard) =>
        time.UtcDateTime.ToString("yyyyMMddHHmm'-'ss", CultureInfo.InvariantCulture) + shard.ToString("D2", CultureInfo.InvariantCulture);

    public static string DailyWindow(DateTimeOffset time) =>
        "d" + time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static string MonthlyWindow(DateTimeOffset time) =>
        "m" + time.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);

    public static string AnomalyPartition(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
