using System.Net;
using FuncKeyOps.Hosting;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Admin;

/// <summary>
/// A store that is down (connection refused, not only hanging) is an outage on every admin route: 503 with
/// Retry-After in the admin shape, never a 500 an operator would read as a bug.
/// </summary>
public class AdminOutageTests
{
    /// <summary>A body each admin route would accept, by template; routes without one send none.</summary>
    private static readonly Dictionary<string, string> Bodies = new()
    {
        ["POST relay-keys"] = """{"tenant":"t","name":"n"}""",
        ["PATCH relay-keys/{id}"] = """{"name":"renamed"}""",
        ["PUT provider-keys/{name}"] = """{"provider":"openai","baseUrl":"https://api.openai.com"}""",
        ["POST provider-keys/{name}/versions"] = """{"value":"sk-fake-outage"}""",
        ["POST provider-keys/{name}/rotations"] = """{"strategy":"immediate","reason":"outage"}""",
        ["PUT pools/{name}"] = """{"provider":"openai","members":[{"key":"openai-main"}]}""",
        ["PUT tenants/{tenant}/policy"] = """{"fallbackToPlatform":true}""",
    };

    /// <summary>Every admin route of the library's table, as both hosts map it.</summary>
    private static IEnumerable<(string Method, string Template, string? Json)> AdminRoutes =>
        Routes.Admin.SelectMany(r => r.Methods.Select(m => (m, r.Template, Bodies.GetValueOrDefault($"{m} {r.Template}"))));

    private static string PathOf(string template, string relayKeyId) => template
        // A finding id the sweep could have made: one that cannot exist is 404 without a storage call.
        .Replace("findings/{id}", "findings/" + FuncKeyOps.Anomalies.FindingId.For("volume", "relay-key:" + relayKeyId, new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero)), StringComparison.Ordinal)
        .Replace("{id}", relayKeyId, StringComparison.Ordinal)
        .Replace("{name}", "openai-main", StringComparison.Ordinal)
        .Replace("{keyName}", "openai-main", StringComparison.Ordinal)
        .Replace("{version}", "0123456789abcdef", StringComparison.Ordinal)
        .Replace("{tenant}", "t", StringComparison.Ordinal);

    private static readonly string[] Prefixes = ["api/admin/", "api/manage/"];

    [Fact]
    public void Every_route_with_a_body_is_in_the_table()
    {
        // A body left behind by a removed or renamed route would leave its route tested without one.
        var routes = Routes.Admin.SelectMany(r => r.Methods.Select(m => $"{m} {r.Template}")).ToHashSet();
        Assert.All(Bodies.Keys, key => Assert.Contains(key, routes));
    }

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

    [Fact]
    public async Task Admin_calls_that_need_the_vault_answer_503_with_retry_after_while_it_is_stopped()
    {
        await using var admin = await AdminServer.StartAsync();
        // Registered, and the admin key cached, while the vault is up: only the calls' own vault work meets the outage.
        var (status, body) = await admin.SendAsync(HttpMethod.Put, "api/admin/provider-keys/openai-main", """{"provider":"openai","baseUrl":"https://api.openai.com"}""");
        body.Dispose();
        Assert.Equal(201, status);

        await admin.Host.Vault.StopAsync();
        using var client = new HttpClient { BaseAddress = admin.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (method, path, json) in new[]
        {
            (HttpMethod.Post, "api/admin/provider-keys/openai-main/versions", """{"value":"sk-fake-outage"}"""),
            (HttpMethod.Get, "api/admin/provider-keys/openai-main", null),
        })
        {
            using var request = admin.Request(method, path, json);
            using var response = await client.SendAsync(request);
            await AdminEndpointTests.AssertError(response, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{method} {path}: no Retry-After");
        }
    }

    private static async Task AssertEveryRouteUnavailableAsync(AdminServer admin, string relayKeyId, string code)
    {
        // Generous: a refused connection fails in milliseconds, so this only stops a hang from holding the run.
        using var client = new HttpClient { BaseAddress = admin.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var failures = new List<string>();
        foreach (var prefix in Prefixes)
        {
            foreach (var (verb, template, json) in AdminRoutes)
            {
                var (method, path) = (new HttpMethod(verb), PathOf(template, relayKeyId));
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
