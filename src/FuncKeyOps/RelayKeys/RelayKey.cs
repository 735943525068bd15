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
    /// <summary>
    /// Per provider, the provider key or pool this key's calls use (by name); a provider not named here uses the
    /// provider's default key. A tenant's own key (BYOK) for the provider comes before either.
    /// </summary>
    public IReadOnlyDictionary<string, string> ProviderKeys { get; init; } = new Dictionary<string, string>();
    /// <summary>What the key may do besides relaying: <c>byok</c> lets it manage its tenant's own provider keys.</summary>
    public IReadOnlyList<string> Scopes { get; init; } = [];
    public RelayKeyStatus Status { get; init; } = RelayKeyStatus.Active;
    public DateTimeOffset CreatedAt { get; init; }
}
