namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// A named provider key: which provider, the fixed upstream it is sent to, the vault secret holding its versions,
/// and how traffic is split between versions. Activation sets <see cref="Weights"/>; a row without any (registered
/// before activation existed) sends everything to the latest version, and only while that version is tagged active.
/// </summary>
public sealed record ProviderKeyConfig
{
    public required string Name { get; init; }
    public required string Provider { get; init; }
    public required Uri BaseUrl { get; init; }
    public required string SecretName { get; init; }
    /// <summary>How rotation creates and revokes keys at the provider: openai, anthropic, gemini, azure-openai, manual.</summary>
    public string Connector { get; init; } = "manual";
    /// <summary>Rotation policy as JSON (<see cref="FuncKeyOps.Rotation.RotationPolicy"/>); null is the default policy.</summary>
    public string? Policy { get; init; }
    /// <summary>
    /// What the connector needs to reach the provider's admin API: ids (project, service account, resource id) and the
    /// names of Key Vault secrets holding its credentials. Never a credential itself.
    /// </summary>
    public IReadOnlyDictionary<string, string> ConnectorSettings { get; init; } = new Dictionary<string, string>();
    /// <summary>Routing weights by secret version; they sum to 100 when set.</summary>
    public IReadOnlyDictionary<string, int> Weights { get; init; } = new Dictionary<string, int>();
    /// <summary>
    /// The key a relay key without a binding for this provider uses. Exactly one platform key per provider is the
    /// default (<see cref="ProviderKeyRegistry"/> keeps it so); a tenant's own key never is.
    /// </summary>
    public bool IsDefault { get; init; }
    /// <summary>Requests per minute the provider grants this key; null = no ceiling kept by the relay.</summary>
    public int? Rpm { get; init; }
    /// <summary>Tokens (in + out) per minute the provider grants this key; null = no ceiling kept by the relay.</summary>
    public long? Tpm { get; init; }
    /// <summary>
    /// The tenant that brought this key (BYOK); null for the platform's own keys. A tenant's key serves only that
    /// tenant's relay keys and is never a default or a pool member.
    /// </summary>
    public string? Tenant { get; init; }
}
