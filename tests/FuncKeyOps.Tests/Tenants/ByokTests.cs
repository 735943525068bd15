using System.Net;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tenants;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>
/// Tenants' own provider keys through the Server host: stored by the tenant's byok relay key, validated with the fake
/// provider, used for that tenant's calls only, never shown again, refused without fallback once removed.
/// </summary>
public class ByokTests
{
    /// <summary>
    /// The grace before a replaced value is revoked is ProviderKeyStaleness.Bound: cache TTLs plus MaxStale plus the
    /// relay's longest send. Shortened here to about a second, and the driver polls often, so a revoke is seen in seconds.
    /// </summary>
    internal static readonly Dictionary<string, string?> ShortGrace = new()
    {
        ["ProviderKeys:CacheTtl"] = "00:00:01",
        ["ProviderKeys:MaxStale"] = "00:00:00",
        ["Secrets:Cache:RefreshAhead"] = "00:00:00.800",
        ["Secrets:Cache:TimeToLive"] = "00:00:01",
        ["Secrets:Cache:MaxStale"] = "00:00:00",
        ["Relay:MaxRetries"] = "0",
        ["Rotation:PollInterval"] = "00:00:00.200",
    };

    private static string NewTenant() => "Tenant " + Guid.NewGuid().ToString("N")[..8] + " ä#"; // no valid vault or table key as is
    private static string NewValue() => "sk-tenant-" + Guid.NewGuid().ToString("N");

    private static async Task<string> KeySeenAsync(RelayHost host, string relayKey)
    {
        var before = host.OpenAI.Requests.Count;
        var completion = (await RelaySdks.OpenAIChat(host, relayKey, retry: false).CompleteChatAsync([new UserChatMessage("hi")])).Value;
        Assert.NotNull(completion);
        var request = host.OpenAI.Requests.Skip(before).Single(r => r.Path == "/v1/chat/completions");
        return request.Header("Authorization")!["Bearer ".Length..];
    }

    [Fact]
    public async Task A_tenants_byok_key_stores_its_key_which_serves_its_calls_while_another_tenants_calls_use_the_platform_key()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var (a, b) = (NewTenant(), NewTenant());
        var keyA = await TenantCalls.RelayKeyAsync(host, a);
        var keyB = await TenantCalls.RelayKeyAsync(host, b);
        var value = NewValue();
        host.OpenAI.AcceptKey(value);

        var (put, text) = await TenantCalls.PutAsync(host, a, keyA, value);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var stored = JsonDocument.Parse(text).RootElement;
        Assert.Equal(("openai", value[^4..]), (stored.GetProperty("provider").GetString(), stored.GetProperty("hint").GetString()));

        Assert.Equal(value, await KeySeenAsync(host, keyA));
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, keyB));

        // Registered as a provider key of the tenant, never the platform's default; audit rows name it.
        var name = TenantKeyNames.KeyName(a, "openai");
        var config = await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(name);
        Assert.Equal((a, false), (config!.Tenant, config.IsDefault));
        var idA = keyA.Split('_')[1];
        Assert.Contains(await host.RowsAsync(idA), r => r.ProviderKeyName == name && r.Status == 200);

        // GET: metadata only; "last used" once the stamp of the call above is written.
        await host.Services.GetRequiredService<TenantKeyUsage>().LastWrite;
        var (get, shown) = await TenantCalls.SendAsync(host, HttpMethod.Get, a, "openai", keyA);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var view = JsonDocument.Parse(shown).RootElement;
        Assert.Equal(value[^4..], view.GetProperty("hint").GetString());
        Assert.NotEqual(JsonValueKind.Null, view.GetProperty("createdAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, view.GetProperty("lastUsed").ValueKind);
        Assert.DoesNotContain(value, shown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_the_provider_rejects_is_refused_with_400_and_stored_nowhere()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = NewTenant();
        var key = await TenantCalls.RelayKeyAsync(host, tenant);

        var (put, text) = await TenantCalls.PutAsync(host, tenant, key, NewValue()); // never accepted by the fake
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("tenant_key_rejected", TenantCalls.ErrorCode(text));

        var name = TenantKeyNames.KeyName(tenant, "openai");
        Assert.Empty(await RotationStepRunner.VersionsAsync(host.Services.GetRequiredService<ISecretStore>(), name, CancellationToken.None));
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(name));
        Assert.Null(await host.Services.GetRequiredService<TenantStore>().GetAsync(tenant));
        // No row, no memory: the tenant's calls still use the platform's key.
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, key));
    }

    [Fact]
    public async Task Without_fallback_a_tenants_calls_answer_503_in_the_providers_shape_after_DELETE_and_with_fallback_use_the_platform_key()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = NewTenant();
        var key = await TenantCalls.RelayKeyAsync(host, tenant);
        var value = NewValue();
        host.OpenAI.AcceptKey(value);
        Assert.Equal(HttpStatusCode.Created, (await TenantCalls.PutAsync(host, tenant, key, value)).Response.StatusCode);
        Assert.Equal(value, await KeySeenAsync(host, key));

        var (deleted, _) = await TenantCalls.SendAsync(host, HttpMethod.Delete, tenant, "openai", key);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        var before = host.OpenAI.Requests.Count;
        using var refused = await host.Client.SendAsync(ProviderKeyCalls.OpenAIChat(key));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("tenant_key_missing", error.GetProperty("code").GetString()); // OpenAI's {"error":{"message","type","code"}}
        Assert.True(error.TryGetProperty("type", out _));
        Assert.Equal(before, host.OpenAI.Requests.Count);

        // Removed everywhere: every vault version disabled, no registration, GET and a second DELETE find nothing.
        var name = TenantKeyNames.KeyName(tenant, "openai");
        var versions = await host.Services.GetRequiredService<ISecretStore>().ListVersionsAsync(name);
        Assert.All(versions, v => Assert.False(v.Enabled));
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(name));
        Assert.Equal(HttpStatusCode.NotFound, (await TenantCalls.SendAsync(host, HttpMethod.Get, tenant, "openai", key)).Response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await TenantCalls.SendAsync(host, HttpMethod.Delete, tenant, "openai", key)).Response.StatusCode);

        // Only the admin may let the tenant spend the platform's money.
        var path = $"tenants/{Uri.EscapeDataString(tenant)}/policy";
        var (policy, body) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Put, path, new { fallbackToPlatform = true });
        Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        Assert.True(body.GetProperty("fallbackToPlatform").GetBoolean());
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, key));
    }

    [Fact]
    public async Task Another_tenants_key_or_one_without_the_scope_is_403_no_credential_401_an_unknown_provider_404()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var (a, b) = (NewTenant(), NewTenant());
        var keyB = await TenantCalls.RelayKeyAsync(host, b);
        var noScope = await TenantCalls.RelayKeyAsync(host, a, byok: false);
        var value = NewValue();
        host.OpenAI.AcceptKey(value);

        var (other, otherText) = await TenantCalls.PutAsync(host, a, keyB, value);
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (other.StatusCode, TenantCalls.ErrorCode(otherText)));
        var (scope, scopeText) = await TenantCalls.PutAsync(host, a, noScope, value);
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (scope.StatusCode, TenantCalls.ErrorCode(scopeText)));
        var (none, noneText) = await TenantCalls.SendAsync(host, HttpMethod.Get, a, "openai", relayKey: null);
        Assert.Equal((HttpStatusCode.Unauthorized, "unauthorized"), (none.StatusCode, TenantCalls.ErrorCode(noneText)));
        var (wrong, _) = await TenantCalls.SendAsync(host, HttpMethod.Get, a, "openai", "fko_aaaaaaaaaaaa_" + new string('x', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        var (unknown, unknownText) = await TenantCalls.SendAsync(host, HttpMethod.Get, b, "nope", keyB);
        Assert.Equal((HttpStatusCode.NotFound, "unknown_provider"), (unknown.StatusCode, TenantCalls.ErrorCode(unknownText)));
        // The policy is the admin's: a tenant's relay key cannot reach it.
        using var policy = new HttpRequestMessage(HttpMethod.Put, $"api/admin/tenants/{Uri.EscapeDataString(b)}/policy")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { fallbackToPlatform = true }),
        };
        policy.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", keyB);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.SendAsync(policy)).StatusCode);

        // Nothing stored by the refused calls; the admin may store for any tenant.
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(TenantKeyNames.KeyName(a, "openai")));
        var (byAdmin, _) = await TenantCalls.SendAsync(host, HttpMethod.Put, a, "openai", relayKey: null, new { value }, admin: true);
        Assert.Equal(HttpStatusCode.Created, byAdmin.StatusCode);

        // The admin trail names who tried and who stored.
        var (events, trail) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Get, "admin-events");
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        var actors = trail.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("route").GetString() == "tenants/{tenant}/provider-keys/{provider}")
            .Select(e => (e.GetProperty("status").GetInt32(), e.GetProperty("actor").GetString())).ToList();
        Assert.Contains((403, "relay-key:" + keyB.Split('_')[1]), actors);
        Assert.Contains(actors, e => e.Item1 == 201 && e.Item2 is { Length: 8 });
    }

    [Fact]
    public async Task Replacing_the_value_serves_the_new_one_at_once_and_revokes_the_old_one_after_the_grace()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = NewTenant();
        var key = await TenantCalls.RelayKeyAsync(host, tenant);
        var (first, second) = (NewValue(), NewValue());
        host.OpenAI.AcceptKey(first);
        host.OpenAI.AcceptKey(second);
        Assert.Equal(HttpStatusCode.Created, (await TenantCalls.PutAsync(host, tenant, key, first)).Response.StatusCode);
        Assert.Equal(first, await KeySeenAsync(host, key));

        var (replaced, text) = await TenantCalls.PutAsync(host, tenant, key, second);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(second[^4..], JsonDocument.Parse(text).RootElement.GetProperty("hint").GetString());
        Assert.Equal(second, await KeySeenAsync(host, key));

        // The old version stays enabled through the grace, then the engine's revoke disables it.
        var name = TenantKeyNames.KeyName(tenant, "openai");
        var store = host.Services.GetRequiredService<ISecretStore>();
        var rotations = host.Services.GetRequiredService<RotationStore>();
        var revoke = await rotations.GetUnfinishedAsync(name);
        Assert.NotNull(revoke);
        var old = revoke.OldVersion!;
        Assert.True((await store.ListVersionsAsync(name)).Single(v => v.Version == old).Enabled);

        var driver = host.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<RotationDriverService>().Single();
        var deadline = Task.Delay(TimeSpan.FromSeconds(20));
        while ((await rotations.GetAsync(name, revoke.Id))!.Status == RotationStatus.Running)
            Assert.NotSame(deadline, await Task.WhenAny(driver.NextSweepAsync(), deadline));

        var done = (await rotations.GetAsync(name, revoke.Id))!;
        Assert.Equal(RotationStatus.Succeeded, done.Status);
        var versions = await store.ListVersionsAsync(name);
        Assert.False(versions.Single(v => v.Version == old).Enabled);
        Assert.True(versions.Single(v => v.Version == done.NewVersion).Enabled);
        Assert.Equal(second, await KeySeenAsync(host, key));
    }

    [Fact]
    public async Task The_stored_value_appears_in_no_response_log_line_admin_event_or_audit_row()
    {
        await using var host = await RelayHost.StartAsync(settings: ShortGrace);
        var tenant = NewTenant();
        var key = await TenantCalls.RelayKeyAsync(host, tenant);
        var (rejected, value) = (NewValue(), NewValue());
        host.OpenAI.AcceptKey(value);
        var responses = new List<string>
        {
            (await TenantCalls.PutAsync(host, tenant, key, rejected)).Text,
            (await TenantCalls.PutAsync(host, tenant, key, value)).Text,
            (await TenantCalls.SendAsync(host, HttpMethod.Get, tenant, "openai", key)).Text,
        };
        Assert.Equal(value, await KeySeenAsync(host, key));
        responses.Add((await TenantCalls.SendAsync(host, HttpMethod.Delete, tenant, "openai", key)).Text);
        using (var refused = await host.Client.SendAsync(ProviderKeyCalls.OpenAIChat(key)))
            responses.Add(await refused.Content.ReadAsStringAsync());
        var (_, events) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Get, "admin-events");
        var (_, audit) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Get, "audit?relayKeyId=" + key.Split('_')[1]);
        var rows = await host.RowsAsync(key.Split('_')[1]);
        Assert.NotEmpty(rows);

        foreach (var secret in new[] { value, rejected })
        {
            Assert.All(responses, r => Assert.DoesNotContain(secret, r, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, host.Server.Logs.AllText, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, events.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit.GetRawText(), StringComparison.Ordinal);
            Assert.All(rows, r => Assert.DoesNotContain(secret, JsonSerializer.Serialize(r), StringComparison.Ordinal));
        }
    }
}
