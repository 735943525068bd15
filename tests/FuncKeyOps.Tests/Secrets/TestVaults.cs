using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Hosting;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.Secrets;

internal static class TestVaults
{
    /// <summary>The product's own client construction for the local vault (Development credential, pinned certificate).</summary>
    public static KeyVaultOptions OptionsFor(TestVault vault) => new()
    {
        Uri = vault.VaultUri,
        Credential = "Development",
        TrustedCertificateThumbprint = vault.CertificateThumbprint,
    };

    public static SecretClient ProductClient(TestVault vault) =>
        AzureClientFactory.CreateSecretClient(OptionsFor(vault), () => throw new InvalidOperationException("no Azure credential in tests"));
}
