using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Providers;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// Billed work whose usage never arrived still counts: an attempt abandoned at the upstream timeout and a stream cut
/// before its usage chunk record an estimate (input from the request, output from what was streamed), marked
/// estimated in the audit row, and the relay key's token budget sees it.
/// </summary>
public class TokenEstimateTests
{
    private const string Messages = "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story about a lighthouse keeper and the sea.\"}]";

    [Fact]
    public async Task A_stream_cut_before_its_usage_chunk_records_estimated_tokens_that_the_daily_budget_counts()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "tests", Name = "budgeted", DailyTokens = 10 });
        host.OpenAI.DropNextStreamAfter(1);
        // Paced, so that the cut comes once the first delta has reached the client (a cut racing the response headers
        // is a failure before the first byte, which the upstream client's retries take).
        var pacer = new StreamPacer();
        host.OpenAI.Pacer = pacer;
        pacer.Release();

        // The provider cuts the stream before its usage chunk; the client sees a broken stream.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await foreach (var update in RelaySdks.OpenAIChat(host, secret, retry: false).CompleteChatStreamingAsync([new UserChatMessage("Tell me a long story.")]))
            {
                if (update.ContentUpdate.Any(p => p.Text.Length > 0))
                    pacer.Release(); // the cut takes the next delta's place
            }
        });

        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal("upstream_stream_broken", row.ErrorCode);
        Assert.True(row.TokensEstimated);
        Assert.Equal((row.RequestBytes + 3) / 4, row.InputTokens); // the request's bytes / 4
        Assert.InRange(row.OutputTokens!.Value, 1, 10); // an event or a few streamed before the cut

        // The estimate counted: the key's 10 daily tokens are spent, so the next call is refused before the provider.
        var sent = host.OpenAI.Requests.Count;
        using var next = await host.Client.SendAsync(Chat(secret, stream: false));
        Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
        Assert.Equal("daily_tokens", JsonDocument.Parse(await next.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(sent, host.OpenAI.Requests.Count);
    }

    [Fact]
    public async Task An_attempt_abandoned_at_the_upstream_timeout_records_the_requests_estimated_input()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Relay:UpstreamTimeout"] = "00:00:01",
            ["Relay:MaxRetries"] = "0",
        });
        var (key, secret) = await host.CreateRelayKeyAsync();
        host.OpenAI.HangNext();

        using (var response = await host.Client.SendAsync(Chat(secret, stream: false)))
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        host.OpenAI.ReleaseHangs();

        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.Equal("upstream_timeout", row.ErrorCode);
        Assert.True(row.TokensEstimated);
        Assert.Equal((row.RequestBytes + 3) / 4, row.InputTokens);
        Assert.Equal(0, row.OutputTokens); // nothing came back
    }

    [Fact]
    public async Task A_call_whose_usage_arrived_is_not_estimated()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();

        using (var response = await host.Client.SendAsync(Chat(secret, stream: true)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();
        }

        var row = Assert.Single(await host.RowsAsync(key.Id));
        Assert.False(row.TokensEstimated);
        Assert.Equal((host.OpenAI.Usage.InputTokens, host.OpenAI.Usage.OutputTokens), ((int)row.InputTokens!, (int)row.OutputTokens!));
    }

    private static HttpRequestMessage Chat(string relayKey, bool stream)
    {
        var body = $$"""{"model":"gpt-4o-mini","stream":{{(stream ? "true" : "false")}},{{Messages}}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        return request;
    }
}
