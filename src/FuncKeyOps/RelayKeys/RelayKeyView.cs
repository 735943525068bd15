using System.Text.Json.Serialization;

namespace FuncKeyOps.RelayKeys;

/// <summary>A relay key as the admin API shows it: never the hash or pepper version, and the key itself only on creation.</summary>
internal sealed record RelayKeyView
{
    public required string Id { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Key { get; init; }

    public required string Tenant { get; init; }
    public required string Name { get; init; }
    public required IReadOnlyList<string> Providers { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public required IReadOnlyList<string> AllowedIps { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? Rpm { get; init; }
    public long? DailyTokens { get; init; }
    public long? MonthlyTokens { get; init; }
    public required IReadOnlyDictionary<string, string> ProviderKeys { get; init; }
    public required IReadOnlyList<string> Scopes { get; init; }
    public required string Status { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public static RelayKeyView From(RelayKey key, string? secret = null) => new()
    {
        Id = key.Id,
        Key = secret,
        Tenant = key.Tenant,
        Name = key.Name,
        Providers = key.Providers,
        Models = key.Models,
        AllowedIps = key.AllowedIps.Select(n => n.ToString()).ToArray(),
        ExpiresAt = key.ExpiresAt,
        Rpm = key.Rpm,
        DailyTokens = key.DailyTokens,
        MonthlyTokens = key.MonthlyTokens,
        ProviderKeys = key.ProviderKeys,
        Scopes = key.Scopes,
        Status = RelayKeyEntity.StatusText(key.Status),
        CreatedAt = key.CreatedAt,
    };
}
