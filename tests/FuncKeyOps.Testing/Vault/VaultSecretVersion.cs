namespace FuncKeyOps.Testing.Vault;

/// <summary>An immutable snapshot of one secret version as the vault holds it.</summary>
internal sealed record VaultSecretVersion(
    string Name,
    string Version,
    string Value,
    string? ContentType,
    IReadOnlyDictionary<string, string> Tags,
    bool Enabled,
    DateTimeOffset? NotBefore,
    DateTimeOffset? ExpiresOn,
    DateTimeOffset Created,
    DateTimeOffset Updated)
{
    // The compiler-generated ToString would print Value; a snapshot that ends up in a log or an
    // assertion message must never leak it.
    public override string ToString() => $"{Name}/{Version}";
}

/// <summary>A soft-deleted secret: its versions are kept until purged or recovered.</summary>
internal sealed record VaultDeletedSecret(VaultSecretVersion Latest, DateTimeOffset DeletedOn, DateTimeOffset ScheduledPurgeDate)
{
    public override string ToString() => $"deleted {Latest}";
}

/// <summary>The fields a PUT may set; anything null keeps the service default.</summary>
internal sealed record VaultSecretWrite(
    string Value,
    string? ContentType,
    IReadOnlyDictionary<string, string>? Tags,
    bool? Enabled,
    DateTimeOffset? NotBefore,
    DateTimeOffset? ExpiresOn)
{
    public override string ToString() => "secret write";
}

/// <summary>The fields a PATCH may change; null means "leave as is", as in the real service.</summary>
internal sealed record VaultSecretPatch(
    string? ContentType,
    IReadOnlyDictionary<string, string>? Tags,
    bool? Enabled,
    DateTimeOffset? NotBefore,
    DateTimeOffset? ExpiresOn);
