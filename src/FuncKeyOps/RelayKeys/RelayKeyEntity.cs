using System.Net;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.RelayKeys;

/// <summary>
/// A <c>clientkeys</c> row. Holds the HMAC of the secret and the pepper version it was made with, never the secret:
/// recording the version lets the pepper rotate, and lets two instances that raced to create the first pepper
/// each verify what the other created.
/// </summary>
internal sealed class RelayKeyEntity : ITableEntity
{
    public string PartitionKey { get; set; } = TableKeys.RelayKeyPartition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    /// <summary>Base64 HMAC-SHA256 of the secret, keyed with the pepper version below.</summary>
    public string Hash { get; set; } = "";
    public string PepperVersion { get; set; } = "";
    public string Tenant { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>JSON arrays: Table Storage has no list type.</summary>
    public string Providers { get; set; } = "[]";
    public string Models { get; set; } = "[]";
    public string AllowedIps { get; set; } = "[]";
    public DateTimeOffset? ExpiresAt { get; set; }
    public int? Rpm { get; set; }
    public long? DailyTokens { get; set; }
    public long? MonthlyTokens { get; set; }
    /// <summary>JSON object provider -> provider key or pool name; null when none is bound.</summary>
    public string? ProviderKeys { get; set; }
    /// <summary>JSON array; null when none.</summary>
    public string? Scopes { get; set; }
    public string Status { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static RelayKeyEntity From(RelayKey key, string hash, string pepperVersion) => new()
    {
        RowKey = key.Id,
        Hash = hash,
        PepperVersion = pepperVersion,
        Tenant = key.Tenant,
        Name = key.Name,
        Providers = JsonSerializer.Serialize(key.Providers),
        Models = JsonSerializer.Serialize(key.Models),
        AllowedIps = JsonSerializer.Serialize(key.AllowedIps.Select(n => n.ToString())),
        ExpiresAt = key.ExpiresAt,
        Rpm = key.Rpm,
        DailyTokens = key.DailyTokens,
        MonthlyTokens = key.MonthlyTokens,
        ProviderKeys = key.ProviderKeys.Count == 0 ? null : JsonSerializer.Serialize(key.ProviderKeys),
        Scopes = key.Scopes.Count == 0 ? null : JsonSerializer.Serialize(key.Scopes),
        Status = StatusText(key.Status),
        CreatedAt = key.CreatedAt,
    };

    public RelayKey ToRelayKey() => new()
    {
        Id = RowKey,
        Tenant = Tenant,
        Name = Name,
        Providers = ReadList(Providers),
        Models = ReadList(Models),
        AllowedIps = ReadList(AllowedIps).Select(IPNetwork.Parse).ToArray(),
        ExpiresAt = ExpiresAt,
        Rpm = Rpm,
        DailyTokens = DailyTokens,
        MonthlyTokens = MonthlyTokens,
        ProviderKeys = string.IsNullOrEmpty(ProviderKeys) ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(ProviderKeys) ?? [],
        Scopes = string.IsNullOrEmpty(Scopes) ? [] : ReadList(Scopes),
        Status = ParseStatus(Status, RowKey),
        CreatedAt = CreatedAt,
    };

    public static string StatusText(RelayKeyStatus status) => status switch
    {
        RelayKeyStatus.Active => "active",
        RelayKeyStatus.Suspended => "suspended",
        RelayKeyStatus.Revoked => "revoked",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    // A status this code does not know is corrupt data: failing loudly beats guessing whether the key may be used.
    private static RelayKeyStatus ParseStatus(string status, string id) => status switch
    {
        "active" => RelayKeyStatus.Active,
        "suspended" => RelayKeyStatus.Suspended,
        "revoked" => RelayKeyStatus.Revoked,
        _ => throw new InvalidOperationException($"Relay key row '{id}' has an unknown status '{status}'."),
    };

    private static string[] ReadList(string json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<string[]>(json) ?? [];
}
