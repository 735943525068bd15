namespace FuncKeyOps.RelayKeys;

/// <summary>What an operator asks for when creating a relay key; validated by <see cref="RelayKeySpecValidator"/>.</summary>
public sealed record RelayKeySpec
{
    public string? Tenant { get; init; }
    public string? Name { get; init; }
    /// <summary>Empty or null: every provider.</summary>
    public IReadOnlyList<string>? Providers { get; init; }
    /// <summary>Empty or null: every model.</summary>
    public IReadOnlyList<string>? Models { get; init; }
    /// <summary>CIDR blocks; a bare address means that address alone. Empty or null: any source.</summary>
    public IReadOnlyList<string>? AllowedIps { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? Rpm { get; init; }
    public long? DailyTokens { get; init; }
    public long? MonthlyTokens { get; init; }
    /// <summary>Provider -> the provider key or pool its calls use; a provider not named uses its default key.</summary>
    public IReadOnlyDictionary<string, string>? ProviderKeys { get; init; }
    /// <summary>What the key may do besides relaying (<see cref="RelayKeyScopes"/>). Empty or null: relaying only.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}
