using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tests.Admin;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeyAdminTests
{
    private static readonly object CreateBody = new
    {
        tenant = "contoso",
        name = "checkout",
        providers = new[] { "openai", "gemini" },
        models = new[] { "gpt-4o-mini" },
        allowedIps = new[] { "203.0.113.0/24", "198.51.100.9" },
        expiresAt = DateTimeOffset.UtcNow.AddDays(30),
        rpm = 120,
        dailyTokens = 50_000,
        monthlyTokens = 1_000_000,
    };

    [Fact]
    public async Task Relay_key_routes_refuse_callers_without_the_admin_key()
    {
        await using var app = await AdminApp.StartAsync();
        var id = RelayKeyFormat.NewId();
        (HttpMethod Method, string Path)[] routes =
        [
            (HttpMethod.Post, "/api/admin/relay-keys"),
            (HttpMethod.Get, "/api/admin/relay-keys"),
            (HttpMethod.Get, $"/api/admin/relay-keys/{id}"),
            (HttpMethod.Post, $"/api/admin/relay-keys/{id}/suspend"),
            (HttpMethod.Post, $"/api/admin/relay-keys/{id}/resume"),
            (HttpMethod.Delete, $"/api/admin/relay-keys/{id}"),
        ];
        foreach (var (method, path) in routes)
        {
            using var anonymous = await app.Client.SendAsync(new HttpRequestMessage(method, path) { Content = Json(CreateBody) });
            await AdminEndpointTests.AssertError(anonymous, HttpStatusCode.Unauthorized, "unauthorized");
            using var wrong = await app.Client.SendAsync(app.Request(method, path, Json(CreateBody), adminKey: "fake-admin-wrong-key-0000"));
            await AdminEndpointTests.AssertError(wrong, HttpStatusCode.Unauthorized, "unauthorized");
        }
        Assert.Empty((await app.Get<RelayKeyService>().ListAsync(RelayKeyAdminHandlers.MaxPageSize, null)).Keys);
    }

    [Fact]
    public async Task Create_returns_201_with_a_key_that_authenticates_and_only_that_response_holds_it()
    {
        await using var app = await AdminApp.StartAsync();

        using var created = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/relay-keys", Json(CreateBody)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.True(created.Headers.CacheControl!.NoStore);
        using var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        var root = body.RootElement;
        var id = root.GetProperty("id").GetString()!;
        var key = root.GetProperty("key").GetString()!;
        Assert.Equal($"/api/admin/relay-keys/{id}", created.Headers.Location!.OriginalString);
        Assert.StartsWith($"fko_{id}_", key, StringComparison.Ordinal);
        Assert.Equal("contoso", root.GetProperty("tenant").GetString());
        Assert.Equal("active", root.GetProperty("status").GetString());
        Assert.Equal(["203.0.113.0/24", "198.51.100.9/32"], root.GetProperty("allowedIps").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(120, root.GetProperty("rpm").GetInt32());
        AssertNoStorageFields(root);

        var auth = await app.Get<RelayKeyAuthenticator>().AuthenticateAsync(key, DateTimeOffset.UtcNow);
        Assert.True(auth.Succeeded, auth.Message);
        Assert.Equal(["openai", "gemini"], auth.Key!.Providers);

        var secret = key[^RelayKeyFormat.SecretLength..];
        using var list = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/relay-keys"));
        var listText = await list.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var listJson = JsonDocument.Parse(listText);
        var listed = Assert.Single(listJson.RootElement.GetProperty("relayKeys").EnumerateArray());
        Assert.Equal(id, listed.GetProperty("id").GetString());
        Assert.False(listed.TryGetProperty("key", out _));
        AssertNoStorageFields(listed);
        Assert.DoesNotContain(secret, listText, StringComparison.Ordinal);

        using var get = await app.Client.SendAsync(app.Request(HttpMethod.Get, $"/api/admin/relay-keys/{id}"));
        var getText = await get.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var getJson = JsonDocument.Parse(getText);
        Assert.Equal("checkout", getJson.RootElement.GetProperty("name").GetString());
        Assert.False(getJson.RootElement.TryGetProperty("key", out _));
        AssertNoStorageFields(getJson.RootElement);
        Assert.DoesNotContain(secret, getText, StringComparison.Ordinal);

        Assert.DoesNotContain(secret, app.Logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"tenant\":\"t\",\"name\":\"n\",\"providers\":[\"mistral\"]}", "invalid_request", "'mistral' is not a provider")]
    [InlineData("{\"tenant\":\"t\",\"name\":\"n\",\"allowedIps\":[\"10.0.0.1/8\"]}", "invalid_request", "is not a valid CIDR block")]
    [InlineData("{\"tenant\":\"t\",\"name\":\"n\",\"rpm\":-1}", "invalid_request", "rpm must not be negative")]
    [InlineData("{\"tenant\":\"t\",\"name\":\"n\",\"expiresAt\":\"2001-01-01T00:00:00Z\"}", "invalid_request", "is not in the future")]
    [InlineData("{\"name\":\"n\"}", "invalid_request", "tenant is required")]
    [InlineData("{\"tenant\":\"t\",\"name\":\"n\",\"rpm\":\"many\"}", "invalid_request_body", "$.rpm")]
    [InlineData("{\"tenant\":", "invalid_request_body", "not valid JSON")]
    [InlineData("null", "invalid_request_body", "must be a JSON object")]
    public async Task Bad_input_is_400_with_a_message_that_says_why(string json, string code, string expected)
    {
        await using var app = await AdminApp.StartAsync();

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/relay-keys",
            new StringContent(json, Encoding.UTF8, "application/json")));

        var body = await AdminEndpointTests.AssertError(response, HttpStatusCode.BadRequest, code);
        using var parsed = JsonDocument.Parse(body);
        Assert.Contains(expected, parsed.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty((await app.Get<RelayKeyService>().ListAsync(RelayKeyAdminHandlers.MaxPageSize, null)).Keys);
    }

    [Fact]
    public async Task Suspend_resume_and_delete_change_the_status_and_revocation_is_final()
    {
        await using var app = await AdminApp.StartAsync();
        var (key, secret) = await app.Get<RelayKeyService>().CreateAsync(new RelayKeySpec { Tenant = "contoso", Name = "ops" });
        var authenticator = app.Get<RelayKeyAuthenticator>();

        await AssertStatus(app, HttpMethod.Post, $"/api/admin/relay-keys/{key.Id}/suspend", "suspended");
        Assert.Equal(RelayKeyFailure.Suspended, (await authenticator.AuthenticateAsync(secret, DateTimeOffset.UtcNow)).Failure);

        await AssertStatus(app, HttpMethod.Post, $"/api/admin/relay-keys/{key.Id}/resume", "active");
        Assert.True((await authenticator.AuthenticateAsync(secret, DateTimeOffset.UtcNow)).Succeeded);

        await AssertStatus(app, HttpMethod.Delete, $"/api/admin/relay-keys/{key.Id}", "revoked");
        Assert.Equal(RelayKeyFailure.Revoked, (await authenticator.AuthenticateAsync(secret, DateTimeOffset.UtcNow)).Failure);

        using var resume = await app.Client.SendAsync(app.Request(HttpMethod.Post, $"/api/admin/relay-keys/{key.Id}/resume"));
        await AdminEndpointTests.AssertError(resume, HttpStatusCode.Conflict, "conflict");
        await AssertStatus(app, HttpMethod.Get, $"/api/admin/relay-keys/{key.Id}", "revoked");
    }

    [Fact]
    public async Task An_absent_key_is_404_and_a_key_pasted_as_id_is_not_echoed()
    {
        await using var app = await AdminApp.StartAsync();
        var absent = RelayKeyFormat.NewId();
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, $"/api/admin/relay-keys/{absent}"),
            (HttpMethod.Post, $"/api/admin/relay-keys/{absent}/suspend"),
            (HttpMethod.Post, $"/api/admin/relay-keys/{absent}/resume"),
            (HttpMethod.Delete, $"/api/admin/relay-keys/{absent}"),
        })
        {
            using var response = await app.Client.SendAsync(app.Request(method, path));
            var body = await AdminEndpointTests.AssertError(response, HttpStatusCode.NotFound, "not_found");
            Assert.Contains(absent, body, StringComparison.Ordinal);
        }

        var pasted = RelayKeyFormat.Compose(absent, RelayKeyFormat.NewSecret());
        using var pastedResponse = await app.Client.SendAsync(app.Request(HttpMethod.Get, $"/api/admin/relay-keys/{pasted}"));
        var pastedBody = await AdminEndpointTests.AssertError(pastedResponse, HttpStatusCode.NotFound, "not_found");
        Assert.DoesNotContain(pasted[^RelayKeyFormat.SecretLength..], pastedBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_pages_in_id_order_and_refuses_a_bad_limit_or_a_forged_continuation()
    {
        await using var app = await AdminApp.StartAsync();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/relay-keys", Json(CreateBody)));
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            created.Add(json.RootElement.GetProperty("id").GetString()!);
        }

        var listed = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var path = "/api/admin/relay-keys?limit=2" + (next is null ? "" : "&continuation=" + Uri.EscapeDataString(next));
            using var page = await app.Client.SendAsync(app.Request(HttpMethod.Get, path));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using var json = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            var ids = json.RootElement.GetProperty("relayKeys").EnumerateArray().Select(k => k.GetProperty("id").GetString()!).ToList();
            Assert.InRange(ids.Count, 0, 2); // Table Storage may return a short page, even an empty one, before the end
            listed.AddRange(ids);
            next = json.RootElement.GetProperty("next").GetString();
            Assert.True(++pages <= 5, "the list did not end");
        }
        while (next is not null);
        Assert.Equal(created.Order(StringComparer.Ordinal), listed);
        using (var all = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/relay-keys")))
        {
            using var json = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
            Assert.Equal(5, json.RootElement.GetProperty("relayKeys").GetArrayLength()); // default page: 100
            Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("next").ValueKind);
        }

        // Not base64url at all, then base64url of text no continuation looks like.
        var forged = new[] { "not base64url!" }.Concat(new[] { "one-part-only", "three parts here", "part <script>", " " }
            .Select(t => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(t))));
        foreach (var query in new[] { "limit=0", "limit=1001", "limit=two", "limit=1&limit=2", "continuation=", "continuation=a&continuation=b" }
            .Concat(forged.Select(t => "continuation=" + Uri.EscapeDataString(t))))
        {
            using var bad = await app.Client.SendAsync(app.Request(HttpMethod.Get, "/api/admin/relay-keys?" + query));
            await AdminEndpointTests.AssertError(bad, HttpStatusCode.BadRequest, "invalid_request");
        }
    }

    private static async Task AssertStatus(AdminApp app, HttpMethod method, string path, string status)
    {
        using var response = await app.Client.SendAsync(app.Request(method, path));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, json.RootElement.GetProperty("status").GetString());
        AssertNoStorageFields(json.RootElement);
    }

    private static void AssertNoStorageFields(JsonElement key)
    {
        foreach (var name in new[] { "hash", "pepperVersion", "secret", "partitionKey", "rowKey", "eTag" })
            Assert.False(key.TryGetProperty(name, out _), $"response exposes '{name}'");
    }

    private static JsonContent Json(object body) => JsonContent.Create(body);
}
