using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The relay never buffers a stream: each chunk reaches the client before the provider sends the next.</summary>
public class StreamingRelayTests
{
    [Theory]
    [InlineData(true)]   // the client asked for usage: bytes are teed through as they come
    [InlineData(false)]  // the relay asked for usage: events pass one by one so the usage chunk can be held back
    public async Task Each_chunk_reaches_the_client_before_the_next_is_sent(bool clientAsksForUsage)
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync();
        const int chunks = 5;
        var pacer = new StreamPacer();
        host.OpenAI.StreamChunks = chunks;
        host.OpenAI.Pacer = pacer;

        var options = clientAsksForUsage ? ""","stream_options":{"include_usage":true}""" : "";
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":true{{options}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var response = await host.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var deltas = FakeProvider.ReplyDeltas(chunks);
        for (var i = 0; i < chunks; i++)
        {
            pacer.Release();
            await ReadUntilAsync(reader, $"\"content\":\"{deltas[i]}\"");
            // The client holds chunk i+1 while the provider has not been allowed to send chunk i+2.
            Assert.Equal(i + 1, pacer.SentCount);
        }
        var rest = await reader.ReadToEndAsync();
        Assert.Contains("data: [DONE]", rest);
        Assert.Equal(clientAsksForUsage, rest.Contains("\"usage\":{", StringComparison.Ordinal));
    }

    private static async Task ReadUntilAsync(StreamReader reader, string marker)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
                return;
        }
        Assert.Fail($"The stream ended before {marker}");
    }
}
