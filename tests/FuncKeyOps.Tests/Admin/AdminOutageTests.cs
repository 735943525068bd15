using System.Net;
using FuncKeyOps.ClientKeys;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Admin;

/// <summary>
/// A store that is down (connection refused, not only hanging) is an outage on every admin route: 503 with
/// Retry-After in the admin shape, never a 500 an operator would read as a bug.
/// </summary>
public class AdminOutageTests
{
    /// <summary>
    /// Every admin route of the Server host (Hosting/EndpointMapping.cs: ClientKeysRegistration.MapRelayKeyAdmin,
    /// ProviderKeysRegistration.MapProviderKeyAdmin, AuditRegistration.MapAuditAdmin, AdminRegistration.MapAdminEvents),
    /// with a body each would accept. Written out here until the library has one route table to enumerate.
    /// </summary>
    private static IEnumerable<(HttpMethod Method, string Path, string? Json)> AdminRoutes(string relayKeyId) =>
    [
        (HttpMethod.Post, "relay-keys", """{"tenant":"t","name":"n"}"""),
        (HttpMethod.Get, "relay-keys", null),
        (HttpMethod.Get, $"relay-keys/{relayKeyId}", null),
        (HttpMethod.Patch, $"relay-keys/{relayKeyId}", """{"name":"renamed"}"""),
        (HttpMethod.Post, $"relay-keys/{relayKeyId}/suspend", null),
        (HttpMethod.Post, $"relay-keys/{relayKeyId}/resume", null),
        (HttpMethod.Delete, $"relay-keys/{relayKeyId}", null),
        (HttpMethod.Get, "provider-keys", null),
        (HttpMethod.Put, "provider-keys/openai-main", """{"provider":"openai","baseUrl":"https://api.openai.com"}"""),
        (HttpMethod.Get, "provider-keys/openai-main", null),
        (HttpMethod.Delete, "provider-keys/openai-main", null),
        (HttpMethod.Post, "provider-keys/openai-main/versions", """{"value":"sk-fake-outage"}"""),
        (HttpMethod.Post, "provider-keys/openai-main/versions/0123456789abcdef/activate", null),
        (HttpMethod.Get, "audit", null),
        (HttpMethod.Get, "admin-events", null),
    ];

    private static readonly string[] Prefixes = ["api/admin/", "api/manage/"];

    [Fact]
    public async Task Every_admin_route_answers_503_with_retry_after_while_azurite_is_stopped()
    {
        // Its own Azurite: stopping the shared one would fail every other test.
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var admin = await AdminServer.StartAsync(azurite.ConnectionString);
        var (key, _) = await admin.Services.GetRequiredService<RelayKeyService>().CreateAsync(new RelayKeySpec { Tenant = "t", Name = "n" });
        // The admin key is read once while storage is up; the vault stays up throughout.
        using (var warm = await admin.Client.SendAsync(admin.Request(HttpMethod.Get, $"api/admin/relay-keys/{key.Id}")))
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        await azurite.StopAsync();
        try
        {
            await AssertEveryRouteUnavailableAsync(admin, key.Id, "storage_unavailable");
        }
        finally
        {
            await azurite.StartAgainAsync();
        }
    }

    [Fact]
    public async Task Every_admin_route_answers_503_with_retry_after_while_the_vault_is_stopped()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = RelayKeyFormat.NewId();
        // Nothing read from the vault yet, so nothing cached: the admin key itself cannot be checked.
        await admin.Host.Vault.StopAsync();
        await AssertEveryRouteUnavailableAsync(admin, id, "admin_key_unavailable");
    }

    private static async Task AssertEveryRouteUnavailableAsync(AdminServer admin, string relayKeyId, string code)
    {
        // Generous: a refused connection fails in milliseconds, so this only stops a hang from holding the run.
        using var client = new HttpClient { BaseAddress = admin.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var failures = new List<string>();
        foreach (var prefix in Prefixes)
        {
            foreach (var (method, path, json) in AdminRoutes(relayKeyId))
            {
                using var request = admin.Request(method, prefix + path, json);
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || !body.Contains($"\"code\":\"{code}\"", StringComparison.Ordinal))
                    failures.Add($"{method} {prefix}{path}: {(int)response.StatusCode} {body}");
                else if (!(response.Headers.RetryAfter?.Delta > TimeSpan.Zero))
                    failures.Add($"{method} {prefix}{path}: 503 without Retry-After");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }
}
