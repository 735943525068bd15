using System.Text;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Tests.Providers;

/// <summary>The tee runs once per streamed event: passing content through must not allocate.</summary>
public class HotPathAllocationTests
{
    public static TheoryData<string, string> ContentEvents => new()
    {
        { "openai", """data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"usage":null}""" },
        { "openai", "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\"}" },
        { "anthropic", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}" },
        { "gemini", """data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"totalTokenCount":10},"modelVersion":"gemini-2.0-flash"}""" },
    };

    [Theory]
    [MemberData(nameof(ContentEvents))]
    public void Passing_an_event_through_allocates_nothing(string provider, string rawEvent)
    {
        var reader = ProvidersUnderTest.Get(provider).CreateUsageReader(new RequestPlan(default, "m", true, StripUsageOnlyChunk: true));
        var bytes = Encoding.UTF8.GetBytes(rawEvent);
        for (var i = 0; i < 100; i++)
            Assert.True(reader.OnSseEvent(bytes));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
            reader.OnSseEvent(bytes);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
