using System.Net;

namespace FuncKeyOps.RelayKeys;

/// <summary>A client's relay key as stored (never its secret). Empty allow-lists mean "any".</summary>
public sealed record RelayKey
{
    public required string Id { get; init; }
    public required string Tenant { get; init; }
    public required string Name { get; init; }
    public IReadOnlyList<string> Providers { get; init; } = [];
    public IReadOnlyList<string> Models { get; init; } = [];
    public IReadOnlyList<IPNetwork> AllowedIps { get; init; } = [];
    public DateTimeOffset? ExpiresAt { get; init; }
    /// <summary>Requests per minute; null = unlimited.</summary>
    public int? Rpm { get; init; }
    public long? DailyTokens { get; init; }
    public long? MonthlyTokens { get; init; }
    public RelayKeyStatus Status { get; init; } = RelayKeyStatus.Active;
    public DateTimeOffset CreatedAt { get; init; }
}
