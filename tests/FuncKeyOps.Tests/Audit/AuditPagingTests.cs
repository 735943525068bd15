using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.Tests.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Audit;

/// <summary><c>GET audit</c> through the Server host: newest first, paged with <c>next</c>/<c>continuation</c>.</summary>
public class AuditPagingTests
{
    // Across a month boundary (two tables), several minutes, and several rows (shards) in one second.
    private static readonly DateTimeOffset Boundary = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task<List<AuditRecord>> SeedAsync(AdminServer admin)
    {
        var rows = new List<AuditRecord>();
        var offsets = new[] { -190.0, -125.5, -61, -60.9, -1, -0.001, 0, 0.2, 0.2, 0.7, 59, 61, 120.25, 181 };
        for (var i = 0; i < offsets.Length; i++)
        {
            var time = Boundary.AddSeconds(offsets[i]).AddTicks(i); // no two rows share a timestamp
            rows.Add(AuditRecords.Full(Guid.CreateVersion7(time).ToString("N"), time, relayKeyId: i % 3 == 0 ? "rk-x" : "rk-y"));
        }
        // Two rows at the very same instant: the order between them is still fixed.
        var same = Boundary.AddSeconds(30);
        rows.Add(AuditRecords.Full(Guid.CreateVersion7(same).ToString("N"), same, relayKeyId: "rk-y"));
        rows.Add(AuditRecords.Full(Guid.CreateVersion7(same).ToString("N"), same, relayKeyId: "rk-y"));
        var sink = admin.Services.GetRequiredService<IAuditSink>();
        foreach (var row in rows)
            sink.Enqueue(row);
        await admin.Services.GetRequiredService<AuditWriter>().FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return rows;
    }

    private static string[] NewestFirst(IEnumerable<AuditRecord> rows) =>
        [.. rows.OrderByDescending(r => r.Time).ThenByDescending(r => r.RequestId, StringComparer.Ordinal).Select(r => r.RequestId)];

    private static string Window(DateTimeOffset from, DateTimeOffset to) =>
        $"from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(to.ToString("O"))}";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(1000)]
    public async Task Pages_followed_to_the_end_give_every_row_once_newest_first_across_minutes_and_months(int limit)
    {
        await using var admin = await AdminServer.StartAsync();
        var rows = await SeedAsync(admin);

        var window = Window(Boundary.AddMinutes(-10), Boundary.AddMinutes(10));
        var items = await AdminEventTests.ReadAllAsync(admin, $"api/admin/audit?{window}&limit={limit}");
        Assert.Equal(NewestFirst(rows), items.Select(i => i.GetProperty("requestId").GetString()));

        var filtered = await AdminEventTests.ReadAllAsync(admin, $"api/admin/audit?{window}&limit={limit}&relayKeyId=rk-x");
        Assert.Equal(NewestFirst(rows.Where(r => r.RelayKeyId == "rk-x")), filtered.Select(i => i.GetProperty("requestId").GetString()));

        // The window's ends: from is inclusive, to exclusive.
        var inner = await AdminEventTests.ReadAllAsync(admin, $"api/admin/audit?{Window(Boundary.AddSeconds(-1), Boundary.AddSeconds(0.2).AddTicks(7))}&limit={limit}");
        Assert.Equal(NewestFirst(rows.Where(r => r.Time >= Boundary.AddSeconds(-1) && r.Time < Boundary.AddSeconds(0.2).AddTicks(7))),
            inner.Select(i => i.GetProperty("requestId").GetString()));
    }

    [Fact]
    public async Task A_page_says_next_only_while_rows_remain_and_a_window_without_rows_is_empty()
    {
        await using var admin = await AdminServer.StartAsync();
        var rows = await SeedAsync(admin);

        var (status, body) = await admin.SendAsync(HttpMethod.Get, $"api/admin/audit?{Window(Boundary.AddMinutes(-10), Boundary.AddMinutes(10))}&limit={rows.Count}");
        using (body)
        {
            Assert.Equal(200, status);
            Assert.Equal(rows.Count, body.RootElement.GetProperty("items").GetArrayLength());
            Assert.Equal(rows.Count, body.RootElement.GetProperty("count").GetInt32());
        }
        var (emptyStatus, empty) = await admin.SendAsync(HttpMethod.Get, $"api/admin/audit?{Window(Boundary.AddDays(-20), Boundary.AddMinutes(-5))}");
        using (empty)
        {
            Assert.Equal(200, emptyStatus);
            Assert.Equal(0, empty.RootElement.GetProperty("items").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, empty.RootElement.GetProperty("next").ValueKind);
        }
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("AAAA")]
    [InlineData("eyJ0IjoiMjAyNi0wMy0wMVQwMDowMDowMFoifQ")]
    public async Task A_bad_continuation_is_400(string continuation)
    {
        await using var admin = await AdminServer.StartAsync();
        var (status, body) = await admin.SendAsync(HttpMethod.Get, $"api/admin/audit?continuation={continuation}");
        using (body)
        {
            Assert.True(status == 400, $"{status}: {body.RootElement}");
            Assert.Equal("invalid_request", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task A_continuation_from_another_window_or_filter_is_400()
    {
        await using var admin = await AdminServer.StartAsync();
        await SeedAsync(admin);
        var window = Window(Boundary.AddMinutes(-10), Boundary.AddMinutes(10));
        var (_, first) = await admin.SendAsync(HttpMethod.Get, $"api/admin/audit?{window}&limit=2");
        var next = first.RootElement.GetProperty("next").GetString()!;
        first.Dispose();

        foreach (var query in new[] { $"{Window(Boundary.AddMinutes(-9), Boundary.AddMinutes(10))}", $"{window}&relayKeyId=rk-x" })
        {
            var (status, body) = await admin.SendAsync(HttpMethod.Get, $"api/admin/audit?{query}&limit=2&continuation={Uri.EscapeDataString(next)}");
            using (body)
                Assert.True(status == 400, $"{status}: {body.RootElement}");
        }
    }
}
