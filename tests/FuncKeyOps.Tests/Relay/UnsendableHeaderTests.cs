using System.Text.Json;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// Header values Kestrel accepts but an outgoing request cannot carry (non-ASCII, control characters): a client's
/// header is never a provider outage. Informational headers are dropped; one the provider acts on is the client's error.
/// </summary>
public class UnsendableHeaderTests
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task A_non_ASCII_User_Agent_is_relayed_without_it_and_audited_as_a_success()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/openai/v1/chat/completions",
            new Dictionary<string, string>
            {
                ["Authorization"] = "Bearer " + secret,
                ["Content-Type"] = "application/json",
                ["User-Agent"] = "café/1.0",
                ["x-note"] = "ünïcode",
                ["x-trace"] = "plain-ascii",
            }, ChatBody);

        Assert.Equal(200, status);
        Assert.Contains(host.OpenAI.ReplyText.Split(' ')[0], response);
        var upstream = Assert.Single(host.OpenAI.Requests); // sent once: nothing failed, nothing retried
        Assert.All(upstream.Headers, header => Assert.True(header.Value.All(char.IsAscii), $"{header.Key}: {header.Value}"));
        Assert.False(upstream.Headers.ContainsKey("x-note"));
        Assert.Equal("plain-ascii", upstream.Header("x-trace")); // ASCII headers still go through
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((200, null), (row.Status, row.ErrorCode));
        Assert.Equal("café/1.0", row.UserAgent); // the audit keeps what the client sent
    }

    [Fact]
    public async Task A_header_the_provider_acts_on_that_cannot_be_sent_is_a_400_and_never_retried_as_an_outage()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        var (status, response) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/anthropic/v1/messages",
            new Dictionary<string, string>
            {
                ["x-api-key"] = secret,
                ["Content-Type"] = "application/json",
                ["anthropic-version"] = "2023-06-01",
                ["anthropic-beta"] = "bêta-2025",
            }, """{"model":"claude-sonnet-4-5-20250929","max_tokens":5,"messages":[]}""");

        Assert.Equal(400, status);
        var error = JsonDocument.Parse(RawHttp.BodyOf(response)).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("invalid_header", error.GetProperty("details").GetProperty("error_code").GetString());
        Assert.Contains("anthropic-beta", error.GetProperty("message").GetString());
        Assert.Empty(host.Anthropic.Requests);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal((400, "invalid_header"), (row.Status, row.ErrorCode));
    }

    [Fact]
    public async Task A_control_character_in_an_informational_header_is_dropped()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        var (status, _) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/openai/v1/chat/completions",
            new Dictionary<string, string>
            {
                ["Authorization"] = "Bearer " + secret,
                ["Content-Type"] = "application/json",
                ["x-client-note"] = "bell\u0007here",
                ["User-Agent"] = "tool\u0001/2",
            }, ChatBody);

        Assert.Equal(200, status); // Kestrel lets a BEL through (it refuses only CR, LF and NUL)
        var upstream = Assert.Single(host.OpenAI.Requests);
        Assert.False(upstream.Headers.ContainsKey("x-client-note"));
        Assert.False(upstream.Headers.TryGetValue("User-Agent", out var agent) && agent.Contains('\u0001'));
        var row = Assert.Single(await host.RowsAsync(key.Id)); // and storage took the row with a control character in it
        Assert.Equal((200, "tool\u0001/2"), (row.Status, row.UserAgent));
    }
}
