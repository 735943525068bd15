using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Testing;

/// <summary>
/// The app settings every host under test starts from: its Table Storage and table prefix, and the test vault
/// (pinned by thumbprint, trusted because the hosts run as Development). Tests add or override their own.
/// </summary>
public static class TestSettings
{
    public static Dictionary<string, string?> For(TestVault vault, string storageConnectionString, string tablePrefix) => new()
    {
        ["Storage:ConnectionString"] = storageConnectionString,
        ["Storage:TablePrefix"] = tablePrefix,
        ["KeyVault:Uri"] = vault.VaultUri.ToString(),
        ["KeyVault:Credential"] = "Development",
        ["KeyVault:TrustedCertificateThumbprint"] = vault.CertificateThumbprint,
    };

    /// <summary>The same settings as a process's environment (a Functions host's app settings): <c>:</c> becomes <c>__</c>.</summary>
    public static Dictionary<string, string> AsEnvironment(IReadOnlyDictionary<string, string?> settings) =>
        settings.ToDictionary(setting => setting.Key.Replace(":", "__", StringComparison.Ordinal), setting => setting.Value ?? "");
}
