using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Routing;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Pools;

/// <summary>Row of the <c>providerpools</c> table: PartitionKey <c>pool</c>, RowKey the pool's name.</summary>
internal sealed class PoolEntity : ITableEntity
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string PartitionKey { get; set; } = TableKeys.PoolPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string Provider { get; set; } = "";
    /// <summary><c>weighted</c> or <c>ordered</c> (<see cref="PoolModes"/>).</summary>
    public string Mode { get; set; } = PoolModes.Weighted;
    /// <summary>JSON array of <c>{key, weight, deployments}</c>, in the pool's order (one row: a pool is written whole, atomically).</summary>
    public string Members { get; set; } = "[]";

    public ProviderKeyPool ToPool() => new()
    {
        Name = RowKey,
        Provider = Provider,
        Mode = PoolModes.Parse(Mode) ?? PoolMode.Weighted,
        Members = (JsonSerializer.Deserialize<List<StoredMember>>(Members, Json) ?? [])
            .Select(m => new PoolMember { KeyName = m.Key, Weight = m.Weight, Deployments = m.Deployments ?? ProviderRoute.NoDeployments })
            .ToList(),
    };

    public static PoolEntity From(ProviderKeyPool pool) => new()
    {
        RowKey = pool.Name,
        Provider = pool.Provider,
        Mode = PoolModes.Name(pool.Mode),
        // Deployments sorted, so the same pool always serializes the same and a repeated PUT is recognised as one.
        Members = JsonSerializer.Serialize(pool.Members.Select(m => new StoredMember(m.KeyName, m.Weight,
            m.Deployments.Count == 0 ? null : new SortedDictionary<string, string>(m.Deployments.ToDictionary(), StringComparer.Ordinal))), Json),
    };

    /// <summary>Whether both rows hold the same pool (the columns a PUT writes).</summary>
    public bool SameAs(PoolEntity other) => Provider == other.Provider && Mode == other.Mode && Members == other.Members;

    private sealed record StoredMember(string Key, int Weight, IReadOnlyDictionary<string, string>? Deployments);
}
