namespace FuncKeyOps.Secrets;

public sealed class KeyVaultOptions
{
    public const string Section = "KeyVault";

    /// <summary>Vault URI, e.g. https://my-vault.vault.azure.net/.</summary>
    public Uri? Uri { get; set; }

    /// <summary>
    /// <c>Default</c>: DefaultAzureCredential (managed identity in Azure). <c>Development</c>: a fixed bearer token
    /// that only the local Key Vault-compatible test vault accepts; a real vault rejects it.
    /// </summary>
    public string Credential { get; set; } = "Default";

    /// <summary>Client id of a user-assigned managed identity, when the app uses one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>
    /// Local development only: trust exactly this self-signed certificate (SHA-1 thumbprint) for the vault endpoint.
    /// Unset in Azure, where the vault's public certificate chain is validated normally. Refused outside the
    /// Development environment unless <see cref="AllowLocalVaultOutsideDevelopment"/>.
    /// </summary>
    public string? TrustedCertificateThumbprint { get; set; }

    /// <summary>
    /// Lets <see cref="TrustedCertificateThumbprint"/> and the Development credential, which relax the vault's
    /// certificate and challenge checks, be used outside the Development environment: only for a benchmark that
    /// runs a Production build against the local test vault. Never set in a deployment.
    /// </summary>
    public bool AllowLocalVaultOutsideDevelopment { get; set; }

    internal bool IsDevelopmentCredential => string.Equals(Credential, "Development", StringComparison.OrdinalIgnoreCase);
}
