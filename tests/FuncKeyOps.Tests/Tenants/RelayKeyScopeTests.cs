using System.Net;
using System.Text.Json;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>A relay key's scopes through the admin API: only known scopes, shown by GET, changed by PATCH.</summary>
public class RelayKeyScopeTests(SharedRelayHost shared) : IClassFixture<SharedRelayHost>
{
    [Fact]
    public async Task A_relay_key_carries_the_byok_scope_it_was_given_and_an_unknown_scope_is_refused()
    {
        var host = shared.Host;
        var (created, key) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Post, "relay-keys", new { tenant = "scopes", name = "n", scopes = new[] { "BYOK", "byok" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(["byok"], Scopes(key));
        var id = key.GetProperty("id").GetString()!;
        var (_, read) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Get, $"relay-keys/{id}");
        Assert.Equal(["byok"], Scopes(read));

        var (refused, error) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Post, "relay-keys", new { tenant = "scopes", name = "n", scopes = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("scopes", error.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        var (patched, cleared) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { scopes = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Empty(Scopes(cleared));
        var (badPatch, _) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { scopes = new[] { "nope" } });
        Assert.Equal(HttpStatusCode.BadRequest, badPatch.StatusCode);
    }

    private static string[] Scopes(JsonElement key) => [.. key.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!)];
}
