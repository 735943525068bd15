using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Secrets;

/// <summary>
/// <see cref="KeyVaultOptions"/> at start-up: a vault to use, a known credential, and the local test vault's relaxed
/// trust only where it belongs. A pinned self-signed certificate without the challenge check, or a fixed development
/// token, in a deployment would be one configuration slip from trusting whoever answers at the vault's address.
/// </summary>
internal sealed class KeyVaultOptionsValidator(IHostEnvironment? environment) : IValidateOptions<KeyVaultOptions>
{
    private const string OptIn = KeyVaultOptions.Section + ":" + nameof(KeyVaultOptions.AllowLocalVaultOutsideDevelopment);

    public ValidateOptionsResult Validate(string? name, KeyVaultOptions options)
    {
        var failures = new List<string>();
        if (options.Uri is not { IsAbsoluteUri: true })
            failures.Add("KeyVault:Uri is required: the vault holding every secret, e.g. https://my-vault.vault.azure.net/.");
        if (!options.IsDevelopmentCredential && !string.Equals(options.Credential, "Default", StringComparison.OrdinalIgnoreCase))
            failures.Add($"KeyVault:Credential must be Default or Development, not '{options.Credential}'.");

        // No host environment (a bare service collection) counts as not Development: the relaxation must be asked for.
        if (environment?.IsDevelopment() != true && !options.AllowLocalVaultOutsideDevelopment)
        {
            var where = environment is null ? "without a host environment" : $"in the {environment.EnvironmentName} environment";
            if (options.TrustedCertificateThumbprint is { Length: > 0 })
                failures.Add($"KeyVault:TrustedCertificateThumbprint pins the local test vault's self-signed certificate and skips the vault's challenge check; it is refused {where}. Unset it, run in Development, or set {OptIn}=true (a benchmark against the local vault only).");
            if (options.IsDevelopmentCredential)
                failures.Add($"KeyVault:Credential=Development sends a fixed token only the local test vault accepts; it is refused {where}. Use Default, run in Development, or set {OptIn}=true (a benchmark against the local vault only).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
