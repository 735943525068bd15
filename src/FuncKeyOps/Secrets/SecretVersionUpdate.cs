namespace FuncKeyOps.Secrets;

/// <summary>A change to a version's properties; null members are left as they are. Tags are merged.</summary>
public sealed record SecretVersionUpdate(
    bool? Enabled = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    DateTimeOffset? ExpiresOn = null);
