using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// Builds the real <see cref="SecretClient"/> for a <see cref="TestVault"/>. It lives in the test project
/// because FuncKeyOps.Testing does not reference Azure.Security.KeyVault.Secrets; the call reads the same
/// as an instance method: <c>vault.CreateSecretClient()</c>.
/// </summary>
public static class TestVaultSecretClientExtensions
{
    public static SecretClient CreateSecretClient(this TestVault vault, Action<SecretClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(vault);
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(vault.CreateTrustingHandler()),
            // The SDK otherwise requires the challenge resource (vault.azure.net) to be a suffix of the
            // request host, which 127.0.0.1 never is.
            DisableChallengeResourceVerification = true,
        };
        configure?.Invoke(options);
        return new SecretClient(vault.VaultUri, vault.Credential, options);
    }
}
