using System.Net;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>
/// A staged value's <c>providerKeyId</c> is what every later revoke acts on, so the admin API records it only when the
/// key's connector confirms, at the provider's own admin API (the fakes'), that it names the value's key.
/// </summary>
public class ProviderKeyIdStagingTests
{
    private static async Task<IReadOnlyList<SecretVersionInfo>> VersionsAsync(RelayHost host, string name)
    {
        try
        {
            return await host.Services.GetRequiredService<ISecretStore>().ListVersionsAsync(name);
        }
        catch (SecretNotFoundException)
        {
            return [];
        }
    }

    private static async Task<string> RegisterWithConnectorAsync(RelayHost host, string provider, Uri baseUrl, string adminKey, Dictionary<string, string>? settings = null)
    {
        var adminSecret = TestNames.NewSecretName("admin");
        await host.Services.GetRequiredService<ISecretStore>().SetAsync(adminSecret, adminKey);
        var name = $"{provider}-{Guid.NewGuid():N}"[..20];
        var connectorSettings = new Dictionary<string, string>(settings ?? []) { ["adminKeySecret"] = adminSecret };
        var (response, body) = await AdminAsync(host, HttpMethod.Put, $"provider-keys/{name}",
            new { provider, baseUrl = baseUrl.ToString(), secretName = name, connector = provider, connectorSettings });
        Assert.True(response.IsSuccessStatusCode, $"register {name}: {response.StatusCode} {body}");
        return name;
    }

    [Fact]
    public async Task Anthropic_staging_refuses_the_id_of_another_key_with_409_and_stores_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        var adminKey = "fake-anthropic-admin-" + Guid.NewGuid().ToString("N");
        host.Anthropic.Admin.AcceptAdminKey(adminKey);
        var name = await RegisterWithConnectorAsync(host, "anthropic", host.Anthropic.BaseUri, adminKey);
        var value = "fake-anthropic-" + Guid.NewGuid().ToString("N");
        var id = host.Anthropic.Admin.AddKey(value, "staged");
        var otherId = host.Anthropic.Admin.AddKey("fake-anthropic-" + Guid.NewGuid().ToString("N"), "someone else's");

        var (refused, error) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value, providerKeyId = otherId });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("provider_key_id_refused", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(otherId, error.GetProperty("error").GetProperty("message").GetString());
        Assert.DoesNotContain(value[^12..], error.ToString());
        Assert.Empty(await VersionsAsync(host, name));

        var (created, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value, providerKeyId = id });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var version = Assert.Single(await VersionsAsync(host, name));
        Assert.Equal((body.GetProperty("version").GetString(), id), (version.Version, version.Tags[SecretTags.ProviderKeyId]));
    }

    [Fact]
    public async Task OpenAI_staging_refuses_a_service_account_form_and_a_key_whose_redacted_value_does_not_fit()
    {
        await using var host = await RelayHost.StartAsync();
        var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
        host.OpenAI.Admin.AcceptAdminKey(adminKey);
        var project = host.OpenAI.Admin.AddProject();
        var account = host.OpenAI.Admin.AddServiceAccount(project, "operator");
        var (value, keyId) = host.OpenAI.Admin.AddKey(project, account, "staged");
        var (_, otherId) = host.OpenAI.Admin.AddKey(project, account, "someone else's");
        var name = await RegisterWithConnectorAsync(host, "openai", host.OpenAI.BaseUri, adminKey, new() { ["projectId"] = project });

        foreach (var id in new[] { $"{account}/{keyId}", otherId })
        {
            var (refused, error) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value, providerKeyId = id });
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("provider_key_id_refused", error.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Empty(await VersionsAsync(host, name));

        var (created, _) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value, providerKeyId = keyId });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(2, host.OpenAI.Admin.Keys(project).Count); // nothing was deleted on the way
    }

    [Fact]
    public async Task Staging_a_value_the_key_already_has_is_409_and_stores_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-dup", "openai", host.OpenAI.BaseUri);
        var value = "fake-dup-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(value);
        var (first, body) = await AdminAsync(host, HttpMethod.Post, "provider-keys/openai-dup/versions", new { value, activate = true });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        foreach (var activate in new[] { false, true })
        {
            var (again, error) = await AdminAsync(host, HttpMethod.Post, "provider-keys/openai-dup/versions", new { value, activate });
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal("value_exists", error.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains(body.GetProperty("version").GetString()!, error.GetProperty("error").GetProperty("message").GetString());
            Assert.DoesNotContain(value[^12..], error.ToString());
        }
        Assert.Single(await VersionsAsync(host, "openai-dup"));
    }
}
