using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Audit;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// A provider that goes quiet mid-body no longer holds the call: past <c>Relay:StreamIdleTimeout</c> without a byte the
/// relay ends the client's stream as broken, audits <c>upstream_stalled</c> with the tokens seen, and closes the
/// provider connection. The host runs on a fake clock, advanced only once the client holds what came before the stall.
/// </summary>
public class StreamIdleTimeoutTests
{
    // Unlike every other timer of the host, so a test can pick the idle timer out of the clock's reports.
    private static async Task NextIdleTimerAsync(SignallingClock clock)
    {
        while (await clock.NextTimerAsync() != IdleTimeout)
        {
        }
    }

    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(42);

    // Caps what a broken relay can cost the run; never what a passing test waits for.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_stream_that_stalls_is_ended_as_broken_and_audited_with_the_tokens_seen()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time);
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "stall", DailyTokens = 12 });
        host.Anthropic.StallNextStreamAfter(1); // message_start (input 11, output 1 so far) and the first delta, then nothing
        using var patience = new CancellationTokenSource(Patience);

        using var response = await host.Client.SendAsync(AnthropicStream(secret), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(patience.Token));
        await ReadUntilAsync(reader, "\"text\":\"Hello\"", patience.Token);

        time.Advance(IdleTimeout);

        await Assert.ThrowsAnyAsync<IOException>(() => reader.ReadToEndAsync(patience.Token));
        await Assert.Single(host.Anthropic.Requests).Aborted.WaitAsync(patience.Token); // the provider connection is closed
        var row = Assert.Single(await host.RowsAsync(key.Id), r => r.Provider == "anthropic");
        Assert.Equal("upstream_stalled", row.ErrorCode);
        Assert.Equal(200, row.Status);
        Assert.True(row.Streamed);
        Assert.Equal(11, row.InputTokens); // message_start's input stands
        // message_start counts 1 output token, only a start: the estimate (one per event streamed) is more.
        Assert.True(row.TokensEstimated);
        Assert.True(row.OutputTokens > 1, $"output {row.OutputTokens}");

        // As after a broken stream, the tokens seen count against the relay key's budget: all 12 are used.
        using (var next = await host.Client.SendAsync(OpenAIChat(secret, stream: false), patience.Token))
            Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);

        var warning = Assert.Single(host.Server.Logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains(row.RequestId, StringComparison.Ordinal));
        Assert.Contains("stalled", warning, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(host.ProviderKeyValues["anthropic"], host.Server.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, host.Server.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("Hello", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_JSON_body_that_stalls_is_ended_as_broken_and_audited()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time);
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.StallNextStreamAfter(0); // half of the JSON body, then nothing
        using var patience = new CancellationTokenSource(Patience);

        using var response = await host.Client.SendAsync(OpenAIChat(secret, stream: false), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(patience.Token);
        Assert.True(await body.ReadAsync(new byte[1], patience.Token) > 0);

        time.Advance(IdleTimeout);

        await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null, patience.Token));
        await Assert.Single(host.OpenAI.Requests).Aborted.WaitAsync(patience.Token);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal("upstream_stalled", row.ErrorCode);
        Assert.False(row.Streamed);
        // A JSON body's usage is read once it is whole; this one never was: the row has the estimate instead.
        Assert.True(row.TokensEstimated);
        Assert.Equal((row.RequestBytes + 3) / 4, row.InputTokens);
        Assert.True(row.OutputTokens > 0, $"output {row.OutputTokens}");
    }

    [Fact]
    public async Task An_error_body_that_stalls_is_answered_504_upstream_stalled()
    {
        // The relay reads an error body whole before answering, so nothing reaches the client to wait on: the clock
        // reports the idle timer instead, and the test advances once the relay is waiting on the body. The timer
        // restarts when the first half of the body arrives, which may come after an advance: then advance again.
        var clock = new SignallingClock(DateTimeOffset.UtcNow, reportChanges: true);
        await using var host = await StartAsync(clock);
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.FailNextAndStall(400);

        var sending = host.Client.SendAsync(OpenAIChat(secret, stream: false));
        await NextIdleTimerAsync(clock);
        do
        {
            clock.Advance(IdleTimeout);
        }
        while (await Task.WhenAny(sending, NextIdleTimerAsync(clock)) != sending);

        using var response = await sending.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("upstream_stalled", await response.Content.ReadAsStringAsync());
        await Assert.Single(host.OpenAI.Requests).Aborted.WaitAsync(Patience);
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal("upstream_stalled", row.ErrorCode);
        Assert.Equal(504, row.Status);
        Assert.Equal(400, row.UpstreamStatus);
    }

    [Fact]
    public async Task A_slow_stream_whose_bytes_keep_coming_within_the_timeout_is_not_cut()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await StartAsync(time);
        var (key, secret) = await host.CreateRelayKeyAsync();
        const int chunks = 5;
        var pacer = new StreamPacer();
        host.OpenAI.StreamChunks = chunks;
        host.OpenAI.Pacer = pacer;
        using var patience = new CancellationTokenSource(Patience);

        using var response = await host.Client.SendAsync(OpenAIChat(secret, stream: true), HttpCompletionOption.ResponseHeadersRead, patience.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(patience.Token));
        var deltas = FakeProvider.ReplyDeltas(chunks);
        for (var i = 0; i < chunks; i++)
        {
            // Each gap is most of the timeout, and together they are far beyond it: only a timer that restarts on
            // every read lets this stream through.
            time.Advance(IdleTimeout * 0.8);
            pacer.Release();
            await ReadUntilAsync(reader, $"\"content\":\"{deltas[i]}\"", patience.Token);
        }

        Assert.Contains("data: [DONE]", await reader.ReadToEndAsync(patience.Token));
        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Null(row.ErrorCode);
        Assert.Equal(host.OpenAI.Usage.InputTokens, row.InputTokens);
    }

    private static Task<RelayHost> StartAsync(FakeTimeProvider time) => RelayHost.StartAsync(
        settings: new Dictionary<string, string?> { ["Relay:StreamIdleTimeout"] = IdleTimeout.ToString() },
        time: time);

    private static HttpRequestMessage AnthropicStream(string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/anthropic/v1/messages")
        {
            Content = new StringContent("""{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", secret);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }

    private static HttpRequestMessage OpenAIChat(string secret, bool stream)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return request;
    }

    private static async Task ReadUntilAsync(StreamReader reader, string marker, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
                return;
        }
        Assert.Fail($"The stream ended before {marker}");
    }
}
