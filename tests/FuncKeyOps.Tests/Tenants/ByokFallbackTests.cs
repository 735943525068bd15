using System.Net;
using System.Text.Json;
using FuncKeyOps.Tenants;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>
/// A tenant whose policy lets it fall back to the platform's key, through the Server host: the platform's key serves
/// only when the provider refuses the tenant's own key; the tenant's key busy or failing is the tenant's answer, so a
/// busy tenant key never spends the platform's money.
/// </summary>
public class ByokFallbackTests
{
    private static readonly Dictionary<string, string?> NoRetries = new() { ["Relay:MaxRetries"] = "0" };

    /// <summary>A tenant with its own OpenAI key stored (accepted by the fake) and the given fallback policy; its byok relay key.</summary>
    private static async Task<(string Tenant, string RelayKey, string Value)> TenantWithKeyAsync(RelayHost host, bool fallbackToPlatform)
    {
        var tenant = "fallback-" + Guid.NewGuid().ToString("N")[..8];
        var relayKey = await TenantCalls.RelayKeyAsync(host, tenant);
        var value = "sk-tenant-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(value);
        Assert.Equal(HttpStatusCode.Created, (await TenantCalls.PutAsync(host, tenant, relayKey, value)).Response.StatusCode);
        var (policy, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, $"tenants/{tenant}/policy", new { fallbackToPlatform });
        Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        return (tenant, relayKey, value);
    }

    private static IEnumerable<string?> KeysSent(RelayHost host, int since) =>
        host.OpenAI.Requests.Skip(since).Where(r => r.Path == "/v1/chat/completions").Select(r => r.Header("Authorization")?["Bearer ".Length..]);

    [Fact]
    public async Task With_fallback_a_tenant_key_the_provider_refuses_is_passed_for_the_platform_key_and_both_are_audited()
    {
        await using var host = await RelayHost.StartAsync(settings: NoRetries);
        var (tenant, relayKey, value) = await TenantWithKeyAsync(host, fallbackToPlatform: true);
        host.OpenAI.RevokeKey(value); // revoked at the provider after it was stored

        var before = host.OpenAI.Requests.Count;
        var completion = (await RelaySdks.OpenAIChat(host, relayKey, retry: false).CompleteChatAsync([new UserChatMessage("hi")])).Value;
        Assert.NotEmpty(completion.Content);
        Assert.Equal([value, host.ProviderKeyValues["openai"]], KeysSent(host, before));

        var rows = await host.RowsAsync(relayKey.Split('_')[1]);
        var refused = Assert.Single(rows, r => r.Attempt == 1);
        Assert.Equal((TenantKeyNames.KeyName(tenant, "openai"), "provider_key_rejected", 401), (refused.ProviderKeyName, refused.ErrorCode, refused.UpstreamStatus));
        var served = Assert.Single(rows, r => r.Attempt == 2);
        Assert.Equal(("openai-main", 200), (served.ProviderKeyName, served.Status));
    }

    [Theory]
    [InlineData(429, 429, "provider_keys_busy")]
    [InlineData(503, 502, "upstream_error")]
    public async Task With_fallback_a_tenant_key_answering_429_or_5xx_is_the_calls_answer_and_the_platform_key_is_never_sent(int upstream, int status, string code)
    {
        await using var host = await RelayHost.StartAsync(settings: NoRetries);
        var (_, relayKey, value) = await TenantWithKeyAsync(host, fallbackToPlatform: true);
        host.OpenAI.FailNext(upstream, retryAfter: upstream == 429 ? TimeSpan.FromSeconds(2) : null);

        var before = host.OpenAI.Requests.Count;
        using var response = await host.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey));
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal([value], KeysSent(host, before));
        var row = Assert.Single(await host.RowsAsync(relayKey.Split('_')[1]), r => r.Status == status);
        Assert.Equal(upstream, row.UpstreamStatus);
    }

    [Fact]
    public async Task Without_fallback_a_tenant_key_the_provider_refuses_answers_502_saying_the_tenants_own_stored_key_was_refused()
    {
        await using var host = await RelayHost.StartAsync(settings: NoRetries);
        var (_, relayKey, value) = await TenantWithKeyAsync(host, fallbackToPlatform: false);
        host.OpenAI.RevokeKey(value);

        var before = host.OpenAI.Requests.Count;
        using var response = await host.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("provider_key_rejected", error.GetProperty("code").GetString());
        Assert.Contains("your tenant stored", error.GetProperty("message").GetString());
        Assert.DoesNotContain("relay's provider key", error.GetProperty("message").GetString());
        Assert.Equal([value], KeysSent(host, before));
    }
}
