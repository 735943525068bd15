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
        await UnbufferedStream.AssertEachChunkArrivesBeforeTheNextIsSentAsync(host.Client, host.OpenAI, secret, clientAsksForUsage);
    }
}
