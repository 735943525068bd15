using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Admin;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Anomalies.FindingParts;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>The findings calls of the admin API through the real Server host: newest first, filtered, paged, acknowledged and resolved in the trail.</summary>
public class FindingAdminTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private sealed record Seeded(AdminServer Admin, FakeTimeProvider Time, List<Finding> Findings) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Admin.DisposeAsync();
    }

    private static async Task<Seeded> StartSeededAsync()
    {
        var time = new FakeTimeProvider(Now);
        var admin = await AdminServer.StartAsync(time: time);
        var store = Store(admin.Services);
        var seeded = new List<Finding>();
        (string Detector, string Subject, DateTimeOffset Window)[] rows =
        [
            (Detectors.Volume, "relay-key:aaaaaaaaaaaa", new(2026, 12, 6, 23, 50, 0, TimeSpan.Zero)),
            (Detectors.NewSource, "relay-key:aaaaaaaaaaaa", new(2026, 12, 6, 23, 55, 0, TimeSpan.Zero)),
            (Detectors.Volume, "relay-key:bbbbbbbbbbbb", new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero)),
            (Detectors.Volume, "relay-key:aaaaaaaaaaaa", new(2026, 12, 7, 0, 5, 0, TimeSpan.Zero)),
            (Detectors.NewSource, "relay-key:bbbbbbbbbbbb", new(2026, 12, 7, 0, 5, 0, TimeSpan.Zero)),
            (Detectors.ShadowUsage, "provider-key:openai-main/v1", new(2026, 12, 7, 11, 0, 0, TimeSpan.Zero)),
            // Its window starts at the default "to" (now): outside the default range, which ends before it.
            (Detectors.Volume, "relay-key:cccccccccccc", new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero)),
        ];
        foreach (var (detector, subject, window) in rows)
        {
            var finding = NewFinding(detector, subject, FindingSeverity.Medium, Now, window);
            await store.AddIfAbsentAsync(finding, CancellationToken.None);
            seeded.Add(finding);
        }
        // The sweep's checkpoint lives in the same table: never a finding.
        var table = await admin.Services.GetRequiredService<TableStore>().GetTableAsync(TableNames.Anomalies);
        await table.AddEntityAsync(new TableEntity("sweep", "checkpoint") { ["Window"] = "202612071155" });
        return new Seeded(admin, time, seeded);
    }

    [Fact]
    public async Task Findings_list_newest_first_in_the_range_filtered_and_paged_to_the_same_list()
    {
        await using var start = await StartSeededAsync();
        var (admin, seeded) = (start.Admin, start.Findings);
        var inDefaultRange = seeded.Where(f => f.WindowStart < Now).Select(f => f.Id).OrderDescending(StringComparer.Ordinal).ToList();

        Assert.Equal(inDefaultRange, await ListAllAsync(admin, "api/admin/findings"));
        Assert.Equal(inDefaultRange, await ListAllAsync(admin, "api/admin/findings?limit=2"));
        Assert.Equal(inDefaultRange, await ListAllAsync(admin, "api/admin/findings?limit=1"));
        Assert.Equal(seeded.Select(f => f.Id).OrderDescending(StringComparer.Ordinal), await ListAllAsync(admin, "api/admin/findings?to=2026-12-07T12:01:00Z&limit=3"));
        Assert.Equal(seeded.Where(f => f.WindowStart.Day == 7 && f.WindowStart < Now).Select(f => f.Id).OrderDescending(StringComparer.Ordinal),
            await ListAllAsync(admin, "api/admin/findings?from=2026-12-07T00:00:00Z&limit=2"));
        Assert.Equal(seeded.Where(f => f.Detector == Detectors.NewSource).Select(f => f.Id).OrderDescending(StringComparer.Ordinal),
            await ListAllAsync(admin, "api/admin/findings?detector=new_source&limit=1"));
        Assert.Equal(seeded.Where(f => f.Subject == "relay-key:aaaaaaaaaaaa").Select(f => f.Id).OrderDescending(StringComparer.Ordinal),
            await ListAllAsync(admin, "api/admin/findings?subject=relay-key:aaaaaaaaaaaa&limit=2"));
        Assert.Equal(inDefaultRange, await ListAllAsync(admin, "api/admin/findings?status=open"));
        Assert.Empty(await ListAllAsync(admin, "api/admin/findings?status=resolved"));

        var (status, body) = await admin.SendAsync(HttpMethod.Get, "api/admin/findings?detector=volume&limit=1");
        var next = body.RootElement.GetProperty("next").GetString()!;
        var item = body.RootElement.GetProperty("items")[0];
        Assert.Equal((200, "volume", "medium", "open", "alert", "pending"), (status, item.GetProperty("detector").GetString(), item.GetProperty("severity").GetString(),
            item.GetProperty("status").GetString(), item.GetProperty("action").GetString(), item.GetProperty("actionState").GetString()));
        foreach (var bad in new[] { "status=closed", "detector=nope", "limit=0", "limit=1001", "subject=", "continuation=not-a-token",
                     "from=2026-12-07T12:00:00Z&to=2026-12-07T11:00:00Z", "from=2025-12-01T00:00:00Z", $"continuation={next}&detector=new_source" })
        {
            var (badStatus, error) = await admin.SendAsync(HttpMethod.Get, "api/admin/findings?" + bad);
            Assert.True(badStatus == 400, $"{bad}: {badStatus} {error.RootElement}");
            Assert.Equal("invalid_request", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task Ack_and_resolve_change_the_status_once_name_the_admin_and_are_in_the_trail()
    {
        await using var start = await StartSeededAsync();
        var (admin, time, seeded) = (start.Admin, start.Time, start.Findings);
        var id = seeded[3].Id;
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(admin.AdminKey)))[..8];

        var acked = await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{id}/ack", 200);
        Assert.Equal(("acknowledged", fingerprint), (Text(acked, "status"), Text(acked, "changedBy")));
        var ackedAgain = await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{id}/ack", 200);
        Assert.Equal(Text(acked, "changedAt"), Text(ackedAgain, "changedAt")); // the first change stands
        Assert.Equal([id], await ListAllAsync(admin, "api/admin/findings?status=acknowledged"));

        var resolved = await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{id}/resolve", 200);
        Assert.Equal("resolved", Text(resolved, "status"));
        await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{id}/resolve", 200);
        var reopened = await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{id}/ack", 409);
        Assert.Equal("conflict", reopened.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("resolved", Text(await SendAsync(admin, time, HttpMethod.Get, $"api/admin/findings/{id}", 200), "status"));

        var unknown = id[..^1] + (id[^1] == 'f' ? 'e' : 'f');
        Assert.Contains(unknown, Text((await SendAsync(admin, time, HttpMethod.Post, $"api/admin/findings/{unknown}/resolve", 404)).GetProperty("error"), "message"));
        const string pasted = "sk-proj-canary0123456789abcdef";
        Assert.DoesNotContain(pasted, (await SendAsync(admin, time, HttpMethod.Get, $"api/admin/findings/{pasted}", 404)).ToString());
        await SendAsync(admin, time, HttpMethod.Post, "api/admin/findings/sweep/ack", 404);

        var (_, trail) = await admin.SendAsync(HttpMethod.Get, "api/admin/admin-events");
        var rows = trail.RootElement.GetProperty("items").EnumerateArray()
            .Select(e => $"{Text(e, "method")} {Text(e, "route")} {e.GetProperty("status").GetInt32()} {Text(e, "errorCode") ?? "-"} {Text(e, "target")} {Text(e, "actor")}")
            .ToList();
        Assert.Equal(
        [
            $"POST findings/{{id}}/ack 404 not_found sha256:{Fingerprint("sweep")} {fingerprint}",
            $"POST findings/{{id}}/resolve 404 not_found sha256:{Fingerprint(unknown)} {fingerprint}",
            $"POST findings/{{id}}/ack 409 conflict {id} {fingerprint}",
            $"POST findings/{{id}}/resolve 200 - {id} {fingerprint}",
            $"POST findings/{{id}}/resolve 200 - {id} {fingerprint}",
            $"POST findings/{{id}}/ack 200 - {id} {fingerprint}",
            $"POST findings/{{id}}/ack 200 - {id} {fingerprint}",
        ], rows);
        Assert.DoesNotContain(pasted, admin.Host.Logs.AllText, StringComparison.Ordinal);
    }

    private static string Fingerprint(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8];

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;

    /// <summary>Sends, checks the status, and moves the clock on a second, so the trail's rows are in the order of the calls.</summary>
    private static async Task<JsonElement> SendAsync(AdminServer admin, FakeTimeProvider time, HttpMethod method, string path, int expected)
    {
        var (status, body) = await admin.SendAsync(method, path);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(status == expected, $"{method} {path}: {status} {body.RootElement}");
        return body.RootElement.Clone();
    }

    /// <summary>Every page of a findings list, following <c>next</c>, as ids in the order given.</summary>
    private static async Task<List<string>> ListAllAsync(AdminServer admin, string path)
    {
        var ids = new List<string>();
        string? next = null;
        var pages = 0;
        do
        {
            var url = next is null ? path : path + (path.Contains('?') ? "&" : "?") + "continuation=" + Uri.EscapeDataString(next);
            var (status, body) = await admin.SendAsync(HttpMethod.Get, url);
            using (body)
            {
                Assert.True(status == 200, $"{url}: {status} {body.RootElement}");
                ids.AddRange(body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()!));
                next = body.RootElement.GetProperty("next").GetString();
            }
            Assert.True(++pages < 50, "the pages do not end");
        }
        while (next is not null);
        return ids;
    }
}
