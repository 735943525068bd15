using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// Proves a host streams without buffering: the fake OpenAI sends each chunk only when let, and the client must hold
/// chunk i before chunk i+1 is let go. Shared by the Server host's and the Functions host's streaming tests.
/// </summary>
internal static class UnbufferedStream
{
    /// <param name="clientAsksForUsage">True: the bytes are teed through as they come; false: the relay asked for
    /// usage itself, so events pass one by one and the usage-only chunk is held back.</param>
    public static async Task AssertEachChunkArrivesBeforeTheNextIsSentAsync(HttpClient client, FakeOpenAI openAI, string relayKey, bool clientAsksForUsage)
    {
        const int chunks = 5;
        var pacer = new StreamPacer();
        var oldChunks = openAI.StreamChunks;
        openAI.StreamChunks = chunks;
        openAI.Pacer = pacer;
        try
        {
            var options = clientAsksForUsage ? ""","stream_options":{"include_usage":true}""" : "";
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
            {
                Content = new StringContent($$"""{"model":"gpt-4o-mini","stream":true{{options}},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

            var deltas = FakeProvider.ReplyDeltas(chunks);
            for (var i = 0; i < chunks; i++)
            {
                pacer.Release();
                await ReadUntilAsync(reader, $"\"content\":\"{deltas[i]}\"");
                // The client holds chunk i+1 while the provider has not been allowed to send chunk i+2: nothing buffers.
                Assert.Equal(i + 1, pacer.SentCount);
            }
            var rest = await reader.ReadToEndAsync();
            Assert.Contains("data: [DONE]", rest);
            Assert.Equal(clientAsksForUsage, rest.Contains("\"usage\":{", StringComparison.Ordinal));
        }
        finally
        {
            // The fake may serve other tests after this one (a class fixture's host).
            openAI.Pacer = null;
            openAI.StreamChunks = oldChunks;
        }
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
