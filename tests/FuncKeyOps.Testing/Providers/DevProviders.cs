using System.Text.Json;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// The fake providers <c>build.sh dev</c> relays to, each with its admin API set up so a rotation drill runs offline:
/// every provider key's first version is a key the fake's admin API made (so its connector can revoke it), the admin
/// credentials are in the test vault, and <see cref="DevProviderKey.ConnectorSettings"/> point the connector at the fakes.
/// </summary>
public sealed class DevProviders : IAsyncDisposable
{
    /// <summary>The token <c>DevelopmentVaultCredential</c> (the library's TokenCredential under <c>KeyVault:Credential=Development</c>) hands out.</summary>
    public const string DevelopmentToken = "funckeyops-development-token";

    public const string OpenAIAdminKeySecret = "openai-admin-key";
    public const string AnthropicAdminKeySecret = "anthropic-admin-key";
    public const string GeminiServiceAccountSecret = "gemini-service-account";

    private const string Project = "funckeyops-dev";

    private DevProviders(FakeProviderSet fakes, FakeGoogleApiKeys googleApiKeys, FakeArm arm)
    {
        Fakes = fakes;
        GoogleApiKeys = googleApiKeys;
        Arm = arm;
    }

    public FakeProviderSet Fakes { get; }
    public FakeGoogleApiKeys GoogleApiKeys { get; }
    public FakeArm Arm { get; }

    /// <summary>One per provider, in <see cref="FakeProviderSet.All"/> order.</summary>
    public IReadOnlyList<DevProviderKey> Keys { get; private set; } = [];

    /// <summary>
    /// A second Anthropic key an operator made in the Console (accepted by the fake, listed by its admin API): what a
    /// drill stages with <c>POST provider-keys/anthropic-dev/versions</c>, Anthropic's API being unable to create keys.
    /// </summary>
    public (string Value, string KeyId) AnthropicNextKey { get; private set; }

    /// <summary>Starts the fakes and their admin APIs; the admin credentials go to <paramref name="vault"/>.</summary>
    public static async Task<DevProviders> StartAsync(TestVault vault)
    {
        var fakes = await FakeProviderSet.StartAsync();
        var googleApiKeys = await FakeGoogleApiKeys.StartAsync(fakes.Gemini);
        // The vault's certificate, so the one pin dev's host already has for the vault trusts ARM too.
        var arm = await FakeArm.StartAsync(vault.Certificate);
        var dev = new DevProviders(fakes, googleApiKeys, arm);
        dev.Keys = [dev.OpenAI(vault), dev.Anthropic(vault), dev.Gemini(vault), dev.Azure()];
        // Only keys the admin APIs know are accepted, so every key dev serves is one a drill can revoke.
        foreach (var (provider, fake) in fakes.All)
        {
            if (provider != "anthropic")
                fake.RevokeKey(fakes.Keys[provider]);
        }

        return dev;
    }

    public async ValueTask DisposeAsync()
    {
        await Arm.DisposeAsync();
        await GoogleApiKeys.DisposeAsync();
        await Fakes.DisposeAsync();
    }

    private DevProviderKey OpenAI(TestVault vault)
    {
        var admin = Fakes.OpenAI.Admin;
        var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
        admin.AcceptAdminKey(adminKey);
        vault.SetSecretDirect(OpenAIAdminKeySecret, adminKey);
        var project = admin.AddProject();
        var account = admin.AddServiceAccount(project, "funckeyops-dev");
        var (value, keyId) = admin.AddKey(project, account, "funckeyops-dev");
        return new DevProviderKey("openai", Fakes.OpenAI.BaseUri, value, keyId, new Dictionary<string, string>
        {
            ["projectId"] = project,
            ["serviceAccountId"] = account,
            ["adminKeySecret"] = OpenAIAdminKeySecret,
        });
    }

    private DevProviderKey Anthropic(TestVault vault)
    {
        var admin = Fakes.Anthropic.Admin;
        var adminKey = "fake-anthropic-admin-" + Guid.NewGuid().ToString("N");
        admin.AcceptAdminKey(adminKey);
        vault.SetSecretDirect(AnthropicAdminKeySecret, adminKey);
        var value = Fakes.Keys["anthropic"];
        var keyId = admin.AddKey(value, "funckeyops-dev");
        var next = "fake-anthropic-" + Guid.NewGuid().ToString("N");
        AnthropicNextKey = (next, admin.AddKey(next, "funckeyops-dev-next"));
        return new DevProviderKey("anthropic", Fakes.Anthropic.BaseUri, value, keyId, new Dictionary<string, string>
        {
            ["adminKeySecret"] = AnthropicAdminKeySecret,
        });
    }

    private DevProviderKey Gemini(TestVault vault)
    {
        vault.SetSecretDirect(GeminiServiceAccountSecret, GoogleApiKeys.CreateServiceAccount(Project));
        var key = GoogleApiKeys.TryAddKey(Project, "funckeyops-dev", "funckeyops-dev")
            ?? throw new InvalidOperationException("The fake already holds the dev key.");
        return new DevProviderKey("gemini", Fakes.Gemini.BaseUri, key.KeyString, key.Name, new Dictionary<string, string>
        {
            ["projectId"] = Project,
            ["serviceAccountSecret"] = GeminiServiceAccountSecret,
            ["apiKeysEndpoint"] = GoogleApiKeys.BaseUri.AbsoluteUri,
        });
    }

    private DevProviderKey Azure()
    {
        Arm.AcceptToken(DevelopmentToken);
        var account = FakeArm.NewAccountId(Project);
        Arm.AddAccount(account, Fakes.Azure);
        return new DevProviderKey("azure-openai", Fakes.Azure.BaseUri, Arm.KeysOf(account).Key1, "key1", new Dictionary<string, string>
        {
            ["resourceId"] = account,
            ["armEndpoint"] = Arm.BaseUri.AbsoluteUri,
        });
    }
}

/// <summary>
/// A dev provider key: the fake it relays to, its first version's value and provider key id, and the connector settings
/// (the connector is named as the provider).
/// </summary>
public sealed record DevProviderKey(string Provider, Uri BaseUrl, string Value, string ProviderKeyId, IReadOnlyDictionary<string, string> ConnectorSettings)
{
    public string ConnectorSettingsJson => JsonSerializer.Serialize(ConnectorSettings);

    public override string ToString() => $"{Provider} at {BaseUrl} (value hidden)";
}
