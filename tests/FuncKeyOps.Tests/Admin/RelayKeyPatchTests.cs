using System.Text.Json;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Admin;

/// <summary><c>PATCH relay-keys/{id}</c> (JSON merge patch) and unknown fields in admin bodies, through the Server host.</summary>
public class RelayKeyPatchTests
{
    [Fact]
    public async Task Patch_changes_the_fields_present_clears_nulls_and_keeps_the_rest()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync(
            """{"tenant":"contoso","name":"checkout","providers":["openai"],"models":["gpt-4o-mini"],"allowedIps":["203.0.113.0/24"],"expiresAt":"2099-01-01T00:00:00Z","rpm":60,"dailyTokens":5000,"monthlyTokens":1000000}""");

        var (status, body) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}",
            """{"name":" billing ","providers":["openai","anthropic"],"models":["gpt-4o"],"allowedIps":["198.51.100.9"],"rpm":5,"dailyTokens":null,"expiresAt":null}""");
        using (body)
        {
            Assert.True(status == 200, $"{status}: {body.RootElement}");
            AssertPatched(body.RootElement, id);
        }
        var (getStatus, read) = await admin.SendAsync(HttpMethod.Get, $"api/admin/relay-keys/{id}");
        using (read)
        {
            Assert.Equal(200, getStatus);
            AssertPatched(read.RootElement, id);
        }

        // An empty patch changes nothing and is not an error.
        var (emptyStatus, empty) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", "{}");
        using (empty)
        {
            Assert.Equal(200, emptyStatus);
            AssertPatched(empty.RootElement, id);
        }
    }

    private static void AssertPatched(JsonElement key, string id)
    {
        Assert.Equal(id, key.GetProperty("id").GetString());
        Assert.Equal("contoso", key.GetProperty("tenant").GetString());
        Assert.Equal("billing", key.GetProperty("name").GetString());
        Assert.Equal(["openai", "anthropic"], key.GetProperty("providers").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["gpt-4o"], key.GetProperty("models").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["198.51.100.9/32"], key.GetProperty("allowedIps").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(5, key.GetProperty("rpm").GetInt32());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("dailyTokens").ValueKind);
        Assert.Equal(JsonValueKind.Null, key.GetProperty("expiresAt").ValueKind);
        Assert.Equal(1_000_000, key.GetProperty("monthlyTokens").GetInt64());
        Assert.Equal("active", key.GetProperty("status").GetString());
        Assert.False(key.TryGetProperty("key", out _));
    }

    [Theory]
    [InlineData("""{"rpm":-1}""", "rpm")]
    [InlineData("""{"providers":["nope"]}""", "providers")]
    [InlineData("""{"allowedIps":["not-an-address"]}""", "allowedIps")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    [InlineData("""{"tenant":"other"}""", "tenant")]
    [InlineData("""{"status":"active"}""", "status")]
    [InlineData("""{"key":"fko_x_y"}""", "key")]
    [InlineData("""{"daily_tokens":5}""", "daily_tokens")]
    [InlineData("""{"rpm":"5"}""", "rpm")]
    [InlineData("""{"providers":[1]}""", "providers")]
    [InlineData("""{"providers":null}""", "providers")]
    [InlineData("""[]""", "object")]
    public async Task A_bad_patch_is_400_naming_the_field_and_changes_nothing(string patch, string field)
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync();

        var (status, body) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", patch);
        using (body)
        {
            Assert.True(status == 400, $"{status}: {body.RootElement}");
            var message = body.RootElement.GetProperty("error").GetProperty("message").GetString()!;
            Assert.Contains(field, message, StringComparison.Ordinal);
        }
        var key = await admin.Services.GetRequiredService<RelayKeyService>().GetAsync(id);
        Assert.Equal("checkout", key!.Name);
        Assert.Equal(60, key.Rpm);
        Assert.Equal(RelayKeyStatus.Active, key.Status);
    }

    [Fact]
    public async Task Patch_of_an_unknown_key_is_404_and_of_a_revoked_key_409()
    {
        await using var admin = await AdminServer.StartAsync();
        var (unknown, missing) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{RelayKeyFormat.NewId()}", """{"rpm":1}""");
        using (missing)
        {
            Assert.Equal(404, unknown);
            Assert.Equal("not_found", missing.RootElement.GetProperty("error").GetProperty("code").GetString());
        }

        var id = await admin.CreateRelayKeyAsync();
        (await admin.SendAsync(HttpMethod.Delete, $"api/admin/relay-keys/{id}")).Body.Dispose();
        var (revoked, conflict) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", """{"rpm":1}""");
        using (conflict)
        {
            Assert.Equal(409, revoked);
            Assert.Equal("conflict", conflict.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Equal(60, (await admin.Services.GetRequiredService<RelayKeyService>().GetAsync(id))!.Rpm);
    }

    [Fact]
    public async Task Concurrent_patches_of_different_fields_all_land()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync();
        string[] patches =
        [
            """{"name":"renamed"}""", """{"providers":["gemini"]}""", """{"models":["gpt-4o"]}""", """{"allowedIps":["10.0.0.1"]}""",
            """{"expiresAt":"2099-01-01T00:00:00Z"}""", """{"rpm":7}""", """{"dailyTokens":8}""", """{"monthlyTokens":9}""",
        ];
        // Each is a read-modify-write of the whole row: without the ETag check, one would overwrite another's field.
        var statuses = await Task.WhenAll(patches.Select(async p =>
        {
            var (status, body) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", p);
            body.Dispose();
            return status;
        }));
        Assert.All(statuses, s => Assert.Equal(200, s));

        var key = (await admin.Services.GetRequiredService<RelayKeyService>().GetAsync(id))!;
        Assert.Equal(("renamed", "gemini", "gpt-4o", "10.0.0.1/32"), (key.Name, key.Providers.Single(), key.Models.Single(), key.AllowedIps.Single().ToString()));
        Assert.Equal((new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), 7, 8L, 9L), (key.ExpiresAt!.Value, key.Rpm!.Value, key.DailyTokens!.Value, key.MonthlyTokens!.Value));
    }

    [Fact]
    public async Task A_suspended_key_can_be_patched_and_stays_suspended()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync();
        (await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{id}/suspend")).Body.Dispose();
        var (status, body) = await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", """{"rpm":7}""");
        using (body)
        {
            Assert.Equal(200, status);
            Assert.Equal("suspended", body.RootElement.GetProperty("status").GetString());
            Assert.Equal(7, body.RootElement.GetProperty("rpm").GetInt32());
        }
    }

    [Fact]
    public async Task The_change_applies_at_once_here_and_on_another_instance_once_its_cache_ttl_has_passed()
    {
        var prefix = TestNames.NewTablePrefix();
        var settings = new Dictionary<string, string?> { ["Storage:TablePrefix"] = prefix, ["RelayKeys:CacheTtl"] = "00:00:30" };
        var timeA = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
        var timeB = new FakeTimeProvider(timeA.GetUtcNow());
        await using var a = await AdminServer.StartAsync(settings: settings, time: timeA);
        await using var b = await AdminServer.StartAsync(settings: settings, time: timeB, sameVaultAs: a);

        var (created, body) = await a.SendAsync(HttpMethod.Post, "api/admin/relay-keys", """{"tenant":"contoso","name":"checkout","rpm":60}""");
        var secret = body.RootElement.GetProperty("key").GetString()!;
        body.Dispose();
        Assert.Equal(201, created);
        var onA = a.Services.GetRequiredService<RelayKeyAuthenticator>();
        var onB = b.Services.GetRequiredService<RelayKeyAuthenticator>();
        Assert.Equal(60, (await onA.AuthenticateAsync(secret, timeA.GetUtcNow())).Key!.Rpm);
        Assert.Equal(60, (await onB.AuthenticateAsync(secret, timeB.GetUtcNow())).Key!.Rpm);

        var id = RelayKeyFormat.TryParse(secret, out var parsed, out _) ? parsed : throw new InvalidOperationException();
        var (patched, patchBody) = await a.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", """{"rpm":5}""");
        patchBody.Dispose();
        Assert.Equal(200, patched);

        Assert.Equal(5, (await onA.AuthenticateAsync(secret, timeA.GetUtcNow())).Key!.Rpm);
        timeB.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(60, (await onB.AuthenticateAsync(secret, timeB.GetUtcNow())).Key!.Rpm);
        timeB.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(5, (await onB.AuthenticateAsync(secret, timeB.GetUtcNow())).Key!.Rpm);
    }

    [Theory]
    [InlineData("POST", "api/admin/relay-keys", """{"tenant":"t","name":"n","daily_tokens":5}""", "daily_tokens")]
    [InlineData("POST", "api/admin/relay-keys", """{"tenant":"t","name":"n","limits":{"rpm":5}}""", "limits")]
    [InlineData("PUT", "api/admin/provider-keys/openai-x", """{"provider":"openai","baseUrl":"https://api.openai.com","secret_name":"x"}""", "secret_name")]
    [InlineData("POST", "api/admin/provider-keys/openai-x/versions", """{"value":"fake-value-123","note":"x"}""", "note")]
    public async Task Unknown_fields_in_admin_bodies_are_400_naming_the_field(string method, string path, string json, string field)
    {
        await using var admin = await AdminServer.StartAsync();
        // The stage call needs its provider key registered first.
        (await admin.SendAsync(HttpMethod.Put, "api/admin/provider-keys/openai-x", """{"provider":"openai","baseUrl":"https://api.openai.com"}""")).Body.Dispose();

        var (status, body) = await admin.SendAsync(new HttpMethod(method), path, json);
        using (body)
        {
            Assert.True(status == 400, $"{status}: {body.RootElement}");
            // A field the call does not take: the body is not of the call's shape, as for any body the parser refuses.
            Assert.Equal("invalid_request_body", body.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains($"'{field}'", body.RootElement.GetProperty("error").GetProperty("message").GetString()!, StringComparison.Ordinal);
        }
        Assert.Empty((await admin.Services.GetRequiredService<RelayKeyService>().ListAsync(10, null)).Keys);
    }
}
