using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// Where a provider key's admin API is and the admin key to call it with, read from Key Vault for each connector call
/// (rotations are rare, and a replaced admin key then takes effect at once). <see cref="ToString"/> never shows the key.
/// </summary>
internal sealed record AdminAccess(Uri BaseUri, string AdminKey)
{
    /// <summary>connectorSettings: the Key Vault secret holding the provider's admin key.</summary>
    public const string AdminKeySecretSetting = "adminKeySecret";

    /// <summary>connectorSettings, optional: the admin API's origin when it is not the provider key's base URL origin.</summary>
    public const string AdminBaseUrlSetting = "adminBaseUrl";

    public override string ToString() => $"admin API at {BaseUri} (key hidden)";

    public Uri Resolve(string relative) => new(BaseUri, relative);

    public static async Task<(AdminAccess? Access, AdminFailure? Failure)> ReadAsync(
        ProviderKeyConfig key, ISecretStore secrets, string provider, CancellationToken cancellationToken)
    {
        if (Setting(key, AdminKeySecretSetting) is not { } secretName)
            return (null, MissingSetting(AdminKeySecretSetting, $"the name of the Key Vault secret holding the {provider} admin key"));

        Uri baseUri;
        if (Setting(key, AdminBaseUrlSetting) is { } configured)
        {
            if (!Uri.TryCreate(configured, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("https" or "http"))
                return (null, new AdminFailure($"connectorSettings.{AdminBaseUrlSetting} is not an absolute http(s) URL.", false));
            baseUri = new Uri(parsed.GetLeftPart(UriPartial.Authority) + "/");
        }
        else
        {
            baseUri = new Uri(key.BaseUrl.GetLeftPart(UriPartial.Authority) + "/");
        }

        try
        {
            var adminKey = await secrets.GetAsync(secretName, cancellationToken: cancellationToken).ConfigureAwait(false);
            return (new AdminAccess(baseUri, adminKey.Value), null);
        }
        catch (SecretNotFoundException)
        {
            return (null, new AdminFailure($"The admin key secret '{secretName}' is not in Key Vault.", false));
        }
        catch (SecretStoreException e)
        {
            return (null, new AdminFailure($"Key Vault could not be read for the admin key secret '{secretName}' ({e.Status?.ToString() ?? "no answer"}).", e.IsTransient));
        }
    }

    public static string? Setting(ProviderKeyConfig key, string name) =>
        key.ConnectorSettings.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    public static AdminFailure MissingSetting(string name, string what) => new($"connectorSettings.{name} is missing: {what}.", false);
}
