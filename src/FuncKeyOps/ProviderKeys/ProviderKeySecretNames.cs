using FuncKeyOps.Admin;
using FuncKeyOps.Alerts;
using FuncKeyOps.RelayKeys;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// The vault's name space of platform provider keys: a key's secret is its own name, so one registration owns it, and
/// no key may take a name another secret of the vault holds: tenants' own keys (<c>byok-…</c>), the admin key, the
/// relay-key pepper, the alert webhook, the Azure slot markers (<c>…-slot-regen</c>) and the connector credentials
/// registrations name. A registration naming any of those would have its value, a secret it does not own, sent to its
/// provider on activation. Key Vault names are case-insensitive, so every comparison is.
/// </summary>
internal static class ProviderKeySecretNames
{
    public const string TenantKeyPrefix = "byok-";
    private const string SlotMarkerSuffix = "-slot-regen";

    // connectorSettings that name a Key Vault secret (a credential the connector reads), not a URL or an id.
    private static readonly string[] CredentialSettings = [Rotation.Connectors.AdminAccess.AdminKeySecretSetting, "serviceAccountSecret"];

    /// <summary>Why the registration's secret is refused, or null. <paramref name="all"/>: the registrations stored now.</summary>
    public static string? Check(string name, string? secretName, IReadOnlyDictionary<string, string>? connectorSettings,
        IReadOnlyList<ProviderKeyConfig> all, IServiceProvider services)
    {
        if (secretName is not null && !string.Equals(secretName, name, StringComparison.OrdinalIgnoreCase))
            return $"'secretName' must be the key's own name ('{name}', in any case): a platform key's value lives in the secret of that name and no other.";
        var system = SystemSecrets(services);
        if (Reserved(name, system) || Credentials(all.Where(c => c.Name != name)).Contains(name))
            return $"'{name}' is the name of another secret in the vault (a tenant's key, the admin key, the pepper, the webhook, a connector credential or a slot marker); choose another name.";
        foreach (var setting in CredentialSettings)
        {
            if (connectorSettings?.GetValueOrDefault(setting) is { } credential
                && (Reserved(credential, system) || all.Any(c => string.Equals(c.SecretName, credential, StringComparison.OrdinalIgnoreCase))
                    || string.Equals(credential, name, StringComparison.OrdinalIgnoreCase)))
                return $"connectorSettings.{setting} names a secret that is not a connector credential (a provider key's, a tenant's or the platform's own).";
        }
        return null;
    }

    /// <summary>Another registration whose name differs only in case: a different row, but the same vault secret.</summary>
    public static ProviderKeyConfig? CaseTwin(string name, IReadOnlyList<ProviderKeyConfig> all) =>
        all.FirstOrDefault(c => c.Name != name && (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(c.SecretName, name, StringComparison.OrdinalIgnoreCase)));

    private static bool Reserved(string secret, HashSet<string> system) =>
        secret.StartsWith(TenantKeyPrefix, StringComparison.OrdinalIgnoreCase)
        || secret.EndsWith(SlotMarkerSuffix, StringComparison.OrdinalIgnoreCase)
        || system.Contains(secret);

    private static HashSet<string> Credentials(IEnumerable<ProviderKeyConfig> keys) =>
        new(keys.SelectMany(k => CredentialSettings.Select(s => k.ConnectorSettings.GetValueOrDefault(s)).OfType<string>()), StringComparer.OrdinalIgnoreCase);

    private static HashSet<string> SystemSecrets(IServiceProvider services) => new(StringComparer.OrdinalIgnoreCase)
    {
        services.GetRequiredService<IOptions<AdminOptions>>().Value.KeySecretName,
        services.GetService<IOptions<RelayKeysOptions>>()?.Value.PepperSecretName ?? new RelayKeysOptions().PepperSecretName,
        services.GetService<IOptions<AlertOptions>>()?.Value.WebhookSecret ?? new AlertOptions().WebhookSecret,
    };
}
