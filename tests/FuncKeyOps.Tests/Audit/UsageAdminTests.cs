using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Anthropic.Models.Messages;
using FuncKeyOps.Audit;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// <c>GET usage</c> through the Server host over rows of real relayed calls. One host for the class: only
/// <see cref="Relayed_calls_are_summed_per_provider_key_by_relay_key_and_by_model"/> relays calls; the other tests
/// write rows under provider key names of their own or none at all.
/// </summary>
public class UsageAdminTests(SharedRelayHost shared) : IClassFixture<SharedRelayHost>
{
    private RelayHost Host => shared.Host;

    [Fact]
    public async Task Relayed_calls_are_summed_per_provider_key_by_relay_key_and_by_model()
    {
        var (teamA, secretA) = await Host.CreateRelayKeyAsync();
        var (teamB, secretB) = await Host.CreateRelayKeyAsync();
        Host.OpenAI.Usage = new FakeUsage(InputTokens: 10, OutputTokens: 5);
        await ChatAsync(secretA, "gpt-4o-mini");
        await ChatAsync(secretA, "gpt-4o-mini");
        Host.OpenAI.Usage = new FakeUsage(InputTokens: 100, OutputTokens: 50);
        await ChatAsync(secretA, "gpt-4o");
        await ChatAsync(secretB, "gpt-4o");
        await ChatAsync(secretB, "gpt-4o");
        // A token count is a call on its key but no usage: the relay reads no usage from its answer.
        Host.Anthropic.Usage = new FakeUsage(InputTokens: 42, OutputTokens: 0);
        var counted = await RelaySdks.Anthropic(Host, secretB).Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "claude-sonnet-4-5-20250929",
            Messages = [new UserMessageParam("hi")],
        });
        Assert.Equal(42, counted.InputTokens);
        Assert.Equal(6, (await Host.RowsAsync(null)).Count); // every row stored

        var version = Assert.Single((await Host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-main"))!.Weights.Keys);
        // The default window (the day before now) holds them all.
        var byRelayKey = await UsageAsync("providerKey=openai-main&groupBy=relayKey");
        Assert.Equal(("openai-main", "relayKey"), (byRelayKey.GetProperty("providerKey").GetString(), byRelayKey.GetProperty("groupBy").GetString()));
        Assert.Equal((5L, 0L, 320L, 160L, 480L), Totals(byRelayKey.GetProperty("totals")));
        // Most tokens first: team B's two large calls before team A's three.
        Assert.Equal(
            Expect((teamB.Id, (2L, 0L, 200L, 100L, 300L)), (teamA.Id, (3L, 0L, 120L, 60L, 180L))),
            Lines(byRelayKey, "groups", "key"));
        var line = Assert.Single(byRelayKey.GetProperty("versions").EnumerateArray());
        Assert.Equal(("openai-main", version, (5L, 0L, 320L, 160L, 480L)),
            (line.GetProperty("providerKey").GetString(), line.GetProperty("version").GetString(), Totals(line)));

        var byModel = await UsageAsync("providerKey=openai-main&groupBy=model");
        Assert.Equal(
            Expect(("gpt-4o", (3L, 0L, 300L, 150L, 450L)), ("gpt-4o-mini", (2L, 0L, 20L, 10L, 30L))),
            Lines(byModel, "groups", "key"));

        // No key named: every key, grouped by key.
        var everyKey = await UsageAsync("");
        Assert.Equal(JsonValueKind.Null, everyKey.GetProperty("providerKey").ValueKind);
        Assert.Equal("providerKey", everyKey.GetProperty("groupBy").GetString());
        Assert.Equal(
            Expect(("openai-main", (5L, 0L, 320L, 160L, 480L)), ("anthropic-main", (1L, 0L, 0L, 0L, 0L))),
            Lines(everyKey, "groups", "key"));
        Assert.Equal((6L, 0L, 320L, 160L, 480L), Totals(everyKey.GetProperty("totals")));

        // A window that ends before the calls, and a key no row names: zero, not an error.
        var now = DateTimeOffset.UtcNow;
        var before = await UsageAsync($"providerKey=openai-main&from={Iso(now.AddHours(-3))}&to={Iso(now.AddHours(-2))}&groupBy=model");
        Assert.Equal((0L, 0L, 0L, 0L, 0L), Totals(before.GetProperty("totals")));
        Assert.Empty(before.GetProperty("groups").EnumerateArray());
        Assert.Empty(before.GetProperty("versions").EnumerateArray());
        var unknown = await UsageAsync("providerKey=nobody-uses-this");
        Assert.Equal((0L, 0L, 0L, 0L, 0L), Totals(unknown.GetProperty("totals")));
    }

    [Fact]
    public async Task A_window_across_the_turn_of_a_month_reads_both_monthly_tables()
    {
        // Long past, so no default window of another test in this class reaches these rows.
        var month = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var key = "month-edge-" + AuditRecords.NewId()[..8];
        var sink = Host.Services.GetRequiredService<IAuditSink>();
        sink.Enqueue(Row(key, month.AddMinutes(-1), input: 1000, output: 1));     // last month's table
        sink.Enqueue(Row(key, month.AddMinutes(1), input: 20, output: 2));        // this month's
        sink.Enqueue(Row(key, month.AddHours(-2), input: 300_000, output: 3));    // before the window
        await Host.Services.GetRequiredService<AuditWriter>().FlushAsync().WaitAsync(AuditHarness.Timeout);

        var report = await UsageAsync($"providerKey={key}&from={Iso(month.AddHours(-1))}&to={Iso(month.AddHours(1))}");
        Assert.Equal((2L, 0L, 1020L, 3L, 1023L), Totals(report.GetProperty("totals")));
        // A month with no table at all (nothing was ever audited then) is zero rows, not an error.
        var empty = await UsageAsync($"providerKey={key}&from={Iso(month.AddYears(-5))}&to={Iso(month.AddYears(-5).AddDays(31))}");
        Assert.Equal(0, empty.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    [Fact]
    public async Task A_call_retried_on_the_other_version_is_two_calls_of_its_versions_with_its_tokens_counted_once()
    {
        // Its own host: it changes openai-main's weights.
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var (oldVersion, newVersion) = await RetryOnOtherVersionTests.WithSecondVersionAsync(host, oldWeight: 99, newWeight: 1);
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        host.OpenAI.Usage = new FakeUsage(InputTokens: 10, OutputTokens: 5);

        const int calls = 5;
        for (var i = 0; i < calls; i++)
            await ChatAsync(host, secret, "gpt-4o-mini");
        var rows = await host.RowsAsync(key.Id);
        var retried = rows.Count(r => r.Attempt == 1);
        Assert.InRange(retried, 1, calls); // 5 calls drawing the refused version at 99 %: odds of none are 10^-10
        Assert.Equal(calls + retried, host.OpenAI.Requests.Count);

        var report = await UsageAsync(host, "providerKey=openai-main&groupBy=relayKey");
        Assert.Equal((calls + retried, retried, 50L, 25L, 75L), Totals(report.GetProperty("totals")));
        Assert.Equal(Expect((key.Id, (calls + retried, retried, 50L, 25L, 75L))), Lines(report, "groups", "key"));
        // Per version, as the provider would report each key it issued: the refused one served no tokens.
        var versions = Expect((oldVersion, (retried, retried, 0L, 0L, 0L)), (newVersion, (calls, 0L, 50L, 25L, 75L)))
            .OrderBy(v => v.Key, StringComparer.Ordinal);
        Assert.Equal(versions, Lines(report, "versions", "version"));
    }

    [Theory]
    [InlineData("groupBy=tenant")]
    [InlineData("groupBy=RelayKey")]
    [InlineData("groupBy=")]
    [InlineData("groupBy=model&groupBy=relayKey")]
    [InlineData("providerKey=")]
    [InlineData("providerKey=a&providerKey=b")]
    [InlineData("from=yesterday")]
    [InlineData("to=2026-13-01T00:00:00Z")]
    [InlineData("from=2026-03-10T12:00:00Z&to=2026-03-10T11:00:00Z")]
    [InlineData("from=2026-02-01T00:00:00Z&to=2026-03-05T00:00:00Z")]
    public async Task Bad_input_is_400_invalid_request_with_a_message(string query)
    {
        var (response, body) = await ProviderKeyCalls.AdminAsync(Host, HttpMethod.Get, "usage?" + query);
        using (response)
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = body.GetProperty("error");
        Assert.Equal("invalid_request", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task A_window_of_exactly_31_days_is_accepted()
    {
        var report = await UsageAsync("providerKey=none-here&from=2026-02-01T00:00:00Z&to=2026-03-04T00:00:00Z");
        Assert.Equal(0, report.GetProperty("totals").GetProperty("calls").GetInt64());
    }

    private Task ChatAsync(string relayKey, string model) => ChatAsync(Host, relayKey, model);

    private static async Task ChatAsync(RelayHost host, string relayKey, string model)
    {
        var chat = new ChatClient(model, new ApiKeyCredential(relayKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(host.RelayBase("openai"), "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        Assert.Equal(host.OpenAI.ReplyText, (await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content[0].Text);
    }

    private async Task<JsonElement> UsageAsync(string query) => await UsageAsync(Host, query);

    internal static async Task<JsonElement> UsageAsync(RelayHost host, string query)
    {
        var (response, body) = await ProviderKeyCalls.AdminAsync(host, HttpMethod.Get, "usage" + (query.Length > 0 ? "?" + query : ""));
        using (response)
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return body;
    }

    internal static (long Calls, long Errors, long Input, long Output, long Total) Totals(JsonElement line) => (
        line.GetProperty("calls").GetInt64(),
        line.GetProperty("errors").GetInt64(),
        line.GetProperty("inputTokens").GetInt64(),
        line.GetProperty("outputTokens").GetInt64(),
        line.GetProperty("totalTokens").GetInt64());

    internal static (string? Key, (long, long, long, long, long) Totals)[] Lines(JsonElement report, string list, string keyName) =>
        [.. report.GetProperty(list).EnumerateArray().Select(l => (l.GetProperty(keyName).GetString(), Totals(l)))];

    internal static (string? Key, (long, long, long, long, long) Totals)[] Expect(params (string? Key, (long, long, long, long, long) Totals)[] lines) => lines;

    internal static string Iso(DateTimeOffset time) =>
        Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

    private static AuditRecord Row(string providerKey, DateTimeOffset time, long input, long output) =>
        AuditRecords.Minimal(AuditRecords.NewId(), time) with
        {
            ProviderKeyName = providerKey,
            ProviderKeyVersion = "v1",
            Status = 200,
            InputTokens = input,
            OutputTokens = output,
        };
}
