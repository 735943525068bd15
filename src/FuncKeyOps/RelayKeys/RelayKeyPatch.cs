namespace FuncKeyOps.RelayKeys;

/// <summary>
/// A JSON merge patch of a relay key (RFC 7396): a field present is changed, <c>null</c> clears an optional one
/// (expiry, limits, provider-key bindings), an absent one stays. Tenant, secret and status are not fields: a key stays in its tenant,
/// and suspend, resume and revoke have calls of their own.
/// </summary>
public sealed class RelayKeyPatch
{
    private readonly HashSet<string> _present = new(StringComparer.Ordinal);

    public string? Name { get; set => field = Mark(value); }
    public IReadOnlyList<string>? Providers { get; set => field = Mark(value); }
    public IReadOnlyList<string>? Models { get; set => field = Mark(value); }
    public IReadOnlyList<string>? AllowedIps { get; set => field = Mark(value); }
    public DateTimeOffset? ExpiresAt { get; set => field = Mark(value); }
    public int? Rpm { get; set => field = Mark(value); }
    public long? DailyTokens { get; set => field = Mark(value); }
    public long? MonthlyTokens { get; set => field = Mark(value); }
    /// <summary>Replaces the whole binding map; null (or {}) clears it, so every provider uses its default key.</summary>
    public IReadOnlyDictionary<string, string>? ProviderKeys { get; set => field = Mark(value); }
    public IReadOnlyList<string>? Scopes { get; set => field = Mark(value); }

    /// <summary>Whether the patch names the field (the property's name), so null can mean "clear" and absent "keep".</summary>
    public bool Has(string property) => _present.Contains(property);

    // The serializer calls a setter only for fields in the body, with null when the body says null.
    private T Mark<T>(T value, [System.Runtime.CompilerServices.CallerMemberName] string property = "")
    {
        _present.Add(property);
        return value;
    }
}
