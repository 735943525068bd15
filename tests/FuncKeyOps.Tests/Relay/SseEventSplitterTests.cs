using System.Buffers;
using System.Text;
using FuncKeyOps.Providers;
using FuncKeyOps.Relay;

namespace FuncKeyOps.Tests.Relay;

public class SseEventSplitterTests
{
    private sealed class RecordingReader(Func<string, bool>? keep = null) : IUsageReader
    {
        public List<string> Events { get; } = [];
        public bool OnSseEvent(ReadOnlySpan<byte> rawEvent)
        {
            var text = Encoding.UTF8.GetString(rawEvent);
            Events.Add(text);
            return keep?.Invoke(text) ?? true;
        }
        public void OnJsonBody(ReadOnlySpan<byte> body) => throw new InvalidOperationException();
        public TokenUsage Usage => default;
    }

    private const string Stream = "data: {\"a\":1}\n\nevent: x\ndata: {\"b\":2}\n\n: ping\n\ndata: [DONE]\n\n";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Events_are_found_whatever_the_read_boundaries(int readSize)
    {
        var reader = new RecordingReader();
        var output = new ArrayBufferWriter<byte>();
        var splitter = new SseEventSplitter(1024);
        var bytes = Encoding.UTF8.GetBytes(Stream);
        for (var i = 0; i < bytes.Length; i += readSize)
            splitter.Feed(bytes.AsSpan(i, Math.Min(readSize, bytes.Length - i)), reader, output);

        Assert.Equal(["data: {\"a\":1}", "event: x\ndata: {\"b\":2}", ": ping", "data: [DONE]"], reader.Events);
        Assert.Equal(Stream, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(0, splitter.TakeRemainder().Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Crlf_events_split_too(int readSize)
    {
        var crlf = "data: {\"a\":1}\r\n\r\ndata: {\"b\":2}\r\n\r\n";
        var reader = new RecordingReader();
        var splitter = new SseEventSplitter(1024);
        var bytes = Encoding.UTF8.GetBytes(crlf);
        for (var i = 0; i < bytes.Length; i += readSize)
            splitter.Feed(bytes.AsSpan(i, Math.Min(readSize, bytes.Length - i)), reader, null);
        Assert.Equal(["data: {\"a\":1}\r", "data: {\"b\":2}\r"], reader.Events);
    }

    [Fact]
    public void Dropped_events_are_not_written()
    {
        var reader = new RecordingReader(e => !e.Contains("\"b\""));
        var output = new ArrayBufferWriter<byte>();
        new SseEventSplitter(1024).Feed(Encoding.UTF8.GetBytes(Stream), reader, output);
        Assert.Equal("data: {\"a\":1}\n\n: ping\n\ndata: [DONE]\n\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void An_oversized_event_stops_splitting_and_passes_bytes_through()
    {
        var reader = new RecordingReader();
        var output = new ArrayBufferWriter<byte>();
        var splitter = new SseEventSplitter(16);
        splitter.Feed(Encoding.UTF8.GetBytes("data: {\"a\":1}\n\ndata: " + new string('x', 40)), reader, output);
        Assert.True(splitter.Overflowed);
        Assert.Equal(["data: {\"a\":1}"], reader.Events);
        Assert.Equal("data: {\"a\":1}\n\ndata: " + new string('x', 40), Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
