using System.Net;
using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.Tests.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Audit;

/// <summary>The handler behind a real Kestrel on loopback, wired by hand: no vault needed, no admin auth (the caller's job).</summary>
public sealed class AuditAdminTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var tables = await TestTables.CreateAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration["Audit:SpillLimitBytes"] = "0"; // no spill folder shared with other tests (or a dev server)
        builder.Services.AddSingleton(tables);
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        builder.Services.AddAudit(builder.Configuration);
        _app = builder.Build();
        // The handler alone: the admin key gate in front of it is tested with the admin endpoints.
        _app.MapGet("/api/admin/audit", AuditAdminHandlers.QueryAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Returns_the_rows_of_the_window_as_camel_case_json()
    {
        var sink = _app.Services.GetRequiredService<IAuditSink>();
        sink.Enqueue(AuditRecords.Full("two-hours-ago", Now.AddHours(-2)));
        sink.Enqueue(AuditRecords.Full("half-hour-ago", Now.AddMinutes(-30)));
        sink.Enqueue(AuditRecords.Full("ten-minutes-ago", Now.AddMinutes(-10), relayKeyId: "rk-2"));
        await _app.Services.GetRequiredService<AuditWriter>().FlushAsync().WaitAsync(AuditHarness.Timeout);

        // Default window: the last hour.
        using (var body = await GetOkAsync("/api/admin/audit"))
        {
            Assert.Equal(2, body.RootElement.GetProperty("count").GetInt32());
            // Newest first.
            Assert.Equal("ten-minutes-ago", body.RootElement.GetProperty("items")[0].GetProperty("requestId").GetString());
            var first = body.RootElement.GetProperty("items")[1];
            Assert.Equal("half-hour-ago", first.GetProperty("requestId").GetString());
            Assert.Equal("rk-1", first.GetProperty("relayKeyId").GetString());
            Assert.Equal(0.001234m, first.GetProperty("costEstimateUsd").GetDecimal());
            Assert.Equal(1200, first.GetProperty("inputTokens").GetInt64());
            Assert.Equal(Now.AddMinutes(-30), first.GetProperty("time").GetDateTimeOffset());
        }

        Assert.Equal(new[] { "ten-minutes-ago" }, await IdsAsync("/api/admin/audit?relayKeyId=rk-2"));
        var from = Uri.EscapeDataString(Now.AddHours(-3).ToString("O"));
        var to = Uri.EscapeDataString(Now.ToString("O"));
        Assert.Equal(new[] { "ten-minutes-ago", "half-hour-ago", "two-hours-ago" }, await IdsAsync($"/api/admin/audit?from={from}&to={to}"));
        Assert.Equal(new[] { "ten-minutes-ago" }, await IdsAsync($"/api/admin/audit?from={from}&to={to}&limit=1"));
        Assert.Equal(new[] { "half-hour-ago" }, await IdsAsync("/api/admin/audit?from=2026-03-10T11:00:00Z&to=2026-03-10T11:45Z"));
    }

    [Theory]
    [InlineData("from=yesterday")]
    [InlineData("from=03/10/2026")]
    [InlineData("to=2026-13-01T00:00:00Z")]
    [InlineData("from=2026-03-10T12:00:00Z&to=2026-03-10T11:00:00Z")]
    [InlineData("from=2026-02-01T00:00:00Z&to=2026-03-05T00:00:00Z")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=ten")]
    [InlineData("limit=-5")]
    [InlineData("relayKeyId=")]
    [InlineData("relayKeyId=rk-1&relayKeyId=rk-2")]
    [InlineData("from=2026-03-10T11:00:00Z&from=2026-03-10T11:30:00Z")]
    public async Task Bad_input_is_400_invalid_request(string query)
    {
        using var response = await _client.GetAsync("/api/admin/audit?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = body.RootElement.GetProperty("error");
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_range_of_exactly_31_days_is_accepted()
    {
        using var body = await GetOkAsync("/api/admin/audit?from=2026-02-01T00:00:00Z&to=2026-03-04T00:00:00Z");
        Assert.Equal(0, body.RootElement.GetProperty("count").GetInt32());
    }

    private async Task<JsonDocument> GetOkAsync(string path)
    {
        using var response = await _client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text);
    }

    private async Task<string[]> IdsAsync(string path)
    {
        using var body = await GetOkAsync(path);
        var items = body.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("requestId").GetString()!).ToArray();
        Assert.Equal(items.Length, body.RootElement.GetProperty("count").GetInt32());
        return items;
    }
}
