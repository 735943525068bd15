using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Hosting;

/// <summary>Builds the Azure SDK clients from configuration: connection string locally, managed identity in Azure.</summary>
public static class AzureClientFactory
{
    public static TableServiceClient CreateTableService(StorageOptions options, Func<TokenCredential> credential)
    {
        var clientOptions = new TableClientOptions();
        ConfigureRetry(clientOptions);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            return new TableServiceClient(options.ConnectionString, clientOptions);
        if (options.TableEndpoint is not null)
            return new TableServiceClient(options.TableEndpoint, credential(), clientOptions);
        throw new InvalidOperationException("Table Storage is not configured: set Storage:ConnectionString (local) or Storage:TableEndpoint (Azure).");
    }

    public static SecretClient CreateSecretClient(KeyVaultOptions options, Func<TokenCredential> credential)
    {
        if (options.Uri is null)
            throw new InvalidOperationException("Key Vault is not configured: set KeyVault:Uri.");
        var clientOptions = new SecretClientOptions();
        ConfigureRetry(clientOptions);
        if (options.TrustedCertificateThumbprint is { Length: > 0 } thumbprint)
        {
            // The local test vault's self-signed certificate: its authority is not the one in the challenge. Options
            // from the hosts' configuration only get here in Development or with the explicit opt-in (KeyVaultOptionsValidator).
            clientOptions.DisableChallengeResourceVerification = true;
            clientOptions.Transport = new HttpClientTransport(PinnedCertificateHandler(thumbprint));
        }
        return new SecretClient(options.Uri, options.IsDevelopmentCredential ? new DevelopmentVaultCredential() : credential(), clientOptions);
    }

    /// <summary>
    /// The host's credential (Table Storage by endpoint, ARM for the azure-openai connector): managed identity or developer
    /// sign-in in Azure; under <c>KeyVault:Credential=Development</c> (<c>build.sh dev</c>, refused outside Development by
    /// <see cref="KeyVaultOptionsValidator"/>) the fixed development token, which the local fakes accept and Azure does not.
    /// </summary>
    public static TokenCredential CreateCredential(KeyVaultOptions options) => options.IsDevelopmentCredential
        ? new DevelopmentVaultCredential()
        // Blank is unset (an app setting left empty, as local.settings.sample.json lists it), not a client id.
        : new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = string.IsNullOrWhiteSpace(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
        });

    /// <summary>
    /// The primary handler of the azure-openai connector's ARM client: with <c>KeyVault:TrustedCertificateThumbprint</c>
    /// (the local test vault, which <c>build.sh dev</c> also serves its fake ARM with) it trusts that certificate only,
    /// as the vault client does; otherwise normal certificate validation.
    /// </summary>
    public static HttpMessageHandler CreateArmHandler(KeyVaultOptions options) =>
        options.TrustedCertificateThumbprint is { Length: > 0 } thumbprint ? PinnedCertificateHandler(thumbprint) : new SocketsHttpHandler();

    private static SocketsHttpHandler PinnedCertificateHandler(string thumbprint) => new()
    {
        SslOptions =
        {
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null
                && string.Equals(certificate.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase),
        },
    };

    // Fail fast enough that health checks and cache refreshes answer in seconds while a dependency is down.
    private static void ConfigureRetry(ClientOptions options)
    {
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
    }
}
