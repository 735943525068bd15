using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Admin;
using FuncKeyOps.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Admin;

/// <summary>The admin trail: every change and every failed admin authentication is an admin event, readable newest first.</summary>
public class AdminEventTests
{
    [Fact]
    public async Task Changes_and_failed_authentications_are_recorded_newest_first_and_reads_are_not()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync();
        (await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", """{"rpm":5}""")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{id}/suspend")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{id}/resume")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Get, $"api/admin/relay-keys/{id}")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Get, "api/admin/relay-keys")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Delete, $"api/admin/relay-keys/{id}")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{id}/resume")).Body.Dispose(); // 409: revoked
        (await admin.SendAsync(HttpMethod.Put, "api/manage/provider-keys/openai-x", """{"provider":"openai","baseUrl":"https://api.openai.com"}""")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, "api/admin/provider-keys/openai-x/versions", """{"value":"fake-staged-value-0123456789"}""")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Get, "api/admin/relay-keys", adminKey: "fake-wrong-admin-key-0123456789")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, "api/admin/relay-keys", "{}", adminKey: "")).Body.Dispose();

        var events = await ReadAllAsync(admin, "api/admin/admin-events");
        string[] expected =
        [
            "POST relay-keys 401 unauthorized -",
            "GET relay-keys 401 unauthorized -",
            "POST provider-keys/{name}/versions 201 - openai-x",
            "PUT provider-keys/{name} 201 - openai-x",
            $"POST relay-keys/{{id}}/resume 409 conflict {id}",
            $"DELETE relay-keys/{{id}} 200 - {id}",
            $"POST relay-keys/{{id}}/resume 200 - {id}",
            $"POST relay-keys/{{id}}/suspend 200 - {id}",
            $"PATCH relay-keys/{{id}} 200 - {id}",
            $"POST relay-keys 201 - {id}",
        ];
        Assert.Equal(expected, events.Select(e =>
            $"{e.GetProperty("method").GetString()} {e.GetProperty("route").GetString()} {e.GetProperty("status").GetInt32()} {Text(e, "errorCode")} {Text(e, "target")}"));

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(admin.AdminKey)))[..8];
        var wrongFingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("fake-wrong-admin-key-0123456789")))[..8];
        Assert.Equal([null, wrongFingerprint, .. Enumerable.Repeat(fingerprint, 8)], events.Select(e => e.GetProperty("actor").GetString()));
        Assert.All(events, e => Assert.Equal("127.0.0.1", e.GetProperty("sourceIp").GetString()));
        var times = events.Select(e => e.GetProperty("time").GetDateTimeOffset()).ToArray();
        Assert.Equal(times.OrderDescending(), times);

        // Failed admin authentication is a warning with the source address and never the presented key.
        Assert.Equal(2, admin.Host.Logs.Lines.Count(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("admin", StringComparison.OrdinalIgnoreCase) && l.Contains("127.0.0.1", StringComparison.Ordinal)));
        Assert.DoesNotContain("fake-wrong-admin-key-0123456789", admin.Host.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_of_admin_events_followed_to_the_end_give_every_event_once_in_a_time_window()
    {
        await using var admin = await AdminServer.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
            ids.Add(await admin.CreateRelayKeyAsync());
        ids.Reverse();

        var paged = await ReadAllAsync(admin, "api/admin/admin-events?limit=3");
        Assert.Equal(ids, paged.Select(e => e.GetProperty("target").GetString()));

        var from = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));
        var to = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(2).ToString("O"));
        Assert.Empty(await ReadAllAsync(admin, $"api/admin/admin-events?from={from}&to={to}"));

        foreach (var bad in new[] { "limit=0", "limit=1001", "continuation=not-a-token", "from=yesterday", "from=2026-03-10T12:00:00Z&to=2026-03-10T11:00:00Z" })
        {
            var (status, body) = await admin.SendAsync(HttpMethod.Get, "api/admin/admin-events?" + bad);
            using (body)
            {
                Assert.True(status == 400, $"{bad}: {status} {body.RootElement}");
                Assert.Equal("invalid_request", body.RootElement.GetProperty("error").GetProperty("code").GetString());
            }
        }
    }

    [Fact]
    public async Task No_secret_sent_to_the_admin_api_reaches_an_admin_event_a_table_or_a_log()
    {
        await using var admin = await AdminServer.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        });
        var canaries = Enumerable.Range(0, 6).Select(i => $"canary{i}-{Guid.NewGuid():N}").ToArray();
        var (createdStatus, created) = await admin.SendAsync(HttpMethod.Post, "api/admin/relay-keys", """{"tenant":"t","name":"n"}""");
        var relaySecret = created.RootElement.GetProperty("key").GetString()!;
        var id = created.RootElement.GetProperty("id").GetString()!;
        created.Dispose();
        Assert.Equal(201, createdStatus);

        // Path segments carry secrets shaped like real keys (what gets pasted there); the rest carry random values.
        var providerShaped = "sk-proj-" + canaries[1];
        (await admin.SendAsync(HttpMethod.Get, "api/admin/relay-keys", adminKey: canaries[0])).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Delete, $"api/admin/relay-keys/{providerShaped}", adminKey: canaries[1])).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Delete, $"api/admin/relay-keys/{relaySecret}")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{providerShaped}/suspend?key={canaries[2]}")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Put, "api/admin/provider-keys/openai-x", """{"provider":"openai","baseUrl":"https://api.openai.com"}""")).Body.Dispose();
        (await admin.SendAsync(HttpMethod.Post, "api/admin/provider-keys/openai-x/versions", $$"""{"value":"{{canaries[3]}}"}""")).Body.Dispose();
        using (var request = admin.Request(HttpMethod.Post, $"api/admin/relay-keys/{id}/suspend"))
        {
            request.Headers.Add("x-api-key", canaries[4]);
            request.Headers.Add("Authorization", "Bearer " + canaries[4]);
            (await admin.Client.SendAsync(request)).Dispose();
        }
        (await admin.SendAsync(HttpMethod.Patch, $"api/admin/relay-keys/{id}", $$"""{"name":"n","{{canaries[5]}}":1}""")).Body.Dispose();

        var events = await ReadAllAsync(admin, "api/admin/admin-events");
        Assert.True(events.Count >= 8, $"{events.Count} events");
        var stored = await AllRowsAsync(admin);
        var logs = admin.Host.Logs.AllText;
        foreach (var secret in canaries.Append(relaySecret).Append(providerShaped).Append(admin.AdminKey))
        {
            Assert.DoesNotContain(secret, JsonSerializer.Serialize(events), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(null, "127.0.0.1")]
    [InlineData("127.0.0.1/32", "203.0.113.9")]
    public async Task The_source_address_believes_x_forwarded_for_only_from_a_trusted_proxy(string? trustedProxy, string expected)
    {
        var settings = new Dictionary<string, string?>();
        if (trustedProxy is not null)
            settings["Relay:TrustedProxies:0"] = trustedProxy;
        await using var admin = await AdminServer.StartAsync(settings: settings);
        using (var request = admin.Request(HttpMethod.Post, "api/admin/relay-keys", """{"tenant":"t","name":"n"}""", adminKey: "fake-wrong-admin-key-0123456789"))
        {
            request.Headers.Add("X-Forwarded-For", "203.0.113.9");
            (await admin.Client.SendAsync(request)).Dispose();
        }
        var recorded = Assert.Single(await ReadAllAsync(admin, "api/admin/admin-events"));
        Assert.Equal(expected, recorded.GetProperty("sourceIp").GetString());
        Assert.Contains(admin.Host.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("from " + expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_whose_event_cannot_be_stored_still_succeeds_and_the_event_is_logged_at_error()
    {
        await using var admin = await AdminServer.StartAsync();
        var id = await admin.CreateRelayKeyAsync();
        // The table goes away behind the store's back: the next write of an event fails.
        var tables = admin.Services.GetRequiredService<TableStore>();
        await tables.Service.DeleteTableAsync(tables.PhysicalName(TableNames.AdminEvents));

        var (status, body) = await admin.SendAsync(HttpMethod.Post, $"api/admin/relay-keys/{id}/suspend");
        body.Dispose();
        Assert.Equal(200, status);
        Assert.Contains(admin.Host.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal)
            && l.Contains($"Admin event not stored: POST relay-keys/{{id}}/suspend target {id} answered 200", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_change_whose_handler_throws_is_recorded_as_a_500()
    {
        await using var app = await AdminApp.StartAsync(admin =>
            admin.MapPost("things/{name}/break", (HttpContext c) => AdminEndpoint.RunAsync(c, _ => throw new InvalidOperationException("a bug"))));

        using var response = await app.Client.SendAsync(app.Request(HttpMethod.Post, "/api/admin/things/thing-1/break"));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);

        var (events, _) = await app.Get<AdminEventStore>().PageAsync(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), 10, null, CancellationToken.None);
        var recorded = Assert.Single(events);
        Assert.Equal(("POST", "things/{name}/break", 500), (recorded.Method, recorded.Route, recorded.Status));
        // Not found or made: the target is kept only as a digest.
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("thing-1")))[..8], recorded.Target);
    }

    private static string Text(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "-";

    internal static async Task<List<JsonElement>> ReadAllAsync(AdminServer admin, string path)
    {
        var items = new List<JsonElement>();
        string? next = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var separator = path.Contains('?') ? '&' : '?';
            var (status, body) = await admin.SendAsync(HttpMethod.Get, next is null ? path : $"{path}{separator}continuation={Uri.EscapeDataString(next)}");
            using (body)
            {
                Assert.True(status == 200, $"{status}: {body.RootElement}");
                items.AddRange(body.RootElement.GetProperty("items").EnumerateArray().Select(e => e.Clone()));
                next = body.RootElement.GetProperty("next").GetString();
            }
            if (next is null)
                return items;
        }
        throw new InvalidOperationException("The pages did not end.");
    }

    // Every row of every table of this host, as text: no secret may be stored anywhere.
    private static async Task<string> AllRowsAsync(AdminServer admin)
    {
        var tables = admin.Services.GetRequiredService<TableStore>();
        var prefix = tables.PhysicalName("");
        var text = new StringBuilder();
        await foreach (var table in tables.Service.QueryAsync(t => t.Name.CompareTo(prefix) >= 0 && t.Name.CompareTo(prefix + "{") < 0))
        {
            await foreach (var row in tables.Service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                foreach (var (name, value) in row)
                    text.Append(name).Append('=').Append(value).Append('\n');
            }
        }
        return text.ToString();
    }
}
