using System.Net;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Tenants;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>
/// A platform provider key cannot name another secret of the vault (a tenant's own key, the admin key, the pepper, a
/// connector credential, the webhook URL) nor send its value, or a connector's credential, to a host that is not the
/// provider's: registering one that could would hand that secret to whoever chose the URL.
/// </summary>
public class ProviderKeyNamespaceTests
{
    private static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;

    [Fact]
    public async Task A_provider_key_may_name_only_its_own_secret_and_no_name_of_another_secret()
    {
        await using var host = await RelayHost.StartAsync();
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();
        var tenantSecret = TenantKeyNames.KeyName("victim-" + Guid.NewGuid().ToString("N")[..8], "openai");
        var url = host.OpenAI.BaseUri.ToString();

        foreach (var secretName in new[] { tenantSecret, tenantSecret.ToUpperInvariant(), "fko-admin-key", "FKO-Admin-Key", "relay-key-pepper", "fko-alert-webhook", "openai-main" })
        {
            var (response, body) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, "provider-keys/thief", new { provider = "openai", baseUrl = url, secretName });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"secretName {secretName}: {response.StatusCode}");
            Assert.Equal("invalid_request", Code(body));
        }
        Assert.Null(await registry.GetAsync("thief"));

        // Nor can a key take such a name as its own (its secret is its name), in any case.
        foreach (var name in new[] { tenantSecret, "BYOK-openai-0123", "fko-admin-key", "Relay-Key-Pepper", "fko-alert-webhook", "openai-main-slot-regen" })
        {
            var (response, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, $"provider-keys/{name}", new { provider = "openai", baseUrl = url });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"name {name}: {response.StatusCode}");
        }
        // One registration owns a secret: the same name in another case is another row but the same vault secret.
        var (twin, twinBody) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, "provider-keys/OpenAI-Main", new { provider = "openai", baseUrl = url });
        Assert.Equal((HttpStatusCode.Conflict, "conflict"), (twin.StatusCode, Code(twinBody)));

        // A connector credential another key reads is no provider key's secret either.
        var (withCredential, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, "provider-keys/openai-admin-owner",
            new { provider = "openai", baseUrl = url, connector = "openai", connectorSettings = new Dictionary<string, string> { ["adminKeySecret"] = "openai-org-admin" } });
        Assert.Equal(HttpStatusCode.Created, withCredential.StatusCode);
        var (credential, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, "provider-keys/Openai-Org-Admin", new { provider = "openai", baseUrl = url });
        Assert.Equal(HttpStatusCode.BadRequest, credential.StatusCode);

        // Its own name, in any case, is accepted.
        var (own, ownBody) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, "provider-keys/openai-own", new { provider = "openai", baseUrl = url, secretName = "OpenAI-Own" });
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal("openai-own", ownBody.GetProperty("secretName").GetString());
    }

    [Fact]
    public async Task Endpoints_are_held_to_the_providers_hosts_with_loopback_in_development_and_others_only_by_the_operators_setting()
    {
        await using var host = await RelayHost.StartAsync();
        var refused = new (string Name, object Body)[]
        {
            ("base", new { provider = "openai", baseUrl = "https://attacker.example/v1/" }),
            ("base-lookalike", new { provider = "openai", baseUrl = "https://api.openai.com.attacker.example/" }),
            ("base-other-provider", new { provider = "openai", baseUrl = "https://api.anthropic.com/" }),
            ("admin", new { provider = "openai", baseUrl = "https://api.openai.com/", connector = "openai", connectorSettings = new Dictionary<string, string> { ["adminBaseUrl"] = "https://attacker.example/" } }),
            ("arm", new { provider = "azure-openai", baseUrl = "https://acct.openai.azure.com/", connector = "azure-openai", connectorSettings = new Dictionary<string, string> { ["armEndpoint"] = "https://attacker.example/" } }),
            ("apikeys", new { provider = "gemini", baseUrl = "https://generativelanguage.googleapis.com/", connector = "gemini", connectorSettings = new Dictionary<string, string> { ["apiKeysEndpoint"] = "https://attacker.example/" } }),
        };
        foreach (var (name, body) in refused)
        {
            var (response, error) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, $"provider-keys/refused-{name}", body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {response.StatusCode}");
            Assert.Equal("invalid_request", Code(error));
        }
        var accepted = new (string Name, object Body)[]
        {
            ("openai", new { provider = "openai", baseUrl = "https://api.openai.com/v1/", connector = "openai", connectorSettings = new Dictionary<string, string> { ["adminBaseUrl"] = "https://api.openai.com/" } }),
            ("azure", new { provider = "azure-openai", baseUrl = "https://acct.openai.azure.com/", connector = "azure-openai", connectorSettings = new Dictionary<string, string> { ["armEndpoint"] = "https://management.azure.com/" } }),
            ("gemini", new { provider = "gemini", baseUrl = "https://generativelanguage.googleapis.com/", connector = "gemini", connectorSettings = new Dictionary<string, string> { ["apiKeysEndpoint"] = "https://apikeys.googleapis.com/" } }),
            ("anthropic", new { provider = "anthropic", baseUrl = "https://API.Anthropic.com/" }),
            ("loopback", new { provider = "openai", baseUrl = host.OpenAI.BaseUri.ToString() }), // Development: local fakes
        };
        foreach (var (name, body) in accepted)
        {
            var (response, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, $"provider-keys/accepted-{name}", body);
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{name}: {response.StatusCode}");
        }

        // The operator's setting lets other hosts in (a gateway, a sovereign cloud's endpoint).
        await using var allowing = await RelayHost.StartAsync(settings: new Dictionary<string, string?> { ["ProviderKeys:AllowedEndpointHosts:0"] = "*.corp.example" });
        var (allowed, _) = await ProviderKeyCalls.AdminAsync(allowing, HttpMethod.Put, "provider-keys/gateway", new { provider = "openai", baseUrl = "https://llm.corp.example/openai/" });
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        var (stillRefused, _) = await ProviderKeyCalls.AdminAsync(allowing, HttpMethod.Put, "provider-keys/attacker", new { provider = "openai", baseUrl = "https://attacker.example/" });
        Assert.Equal(HttpStatusCode.BadRequest, stillRefused.StatusCode);
    }

    [Fact]
    public async Task Outside_development_a_loopback_endpoint_is_refused()
    {
        await using var vault = await TestVault.StartAsync();
        vault.SetSecretDirect("fko-admin-key", RelayHost.AdminKey);
        await using var host = await ServerHost.StartAsync(vault: vault, environment: "Production",
            settings: new Dictionary<string, string?> { ["KeyVault:AllowLocalVaultOutsideDevelopment"] = "true" });
        var (response, _) = await ProviderKeyCalls.AdminAsync(host.Client, HttpMethod.Put, "provider-keys/local", new { provider = "openai", baseUrl = "http://127.0.0.1:9/" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var (known, _) = await ProviderKeyCalls.AdminAsync(host.Client, HttpMethod.Put, "provider-keys/known", new { provider = "openai", baseUrl = "https://api.openai.com/" });
        Assert.Equal(HttpStatusCode.Created, known.StatusCode);
    }
}
