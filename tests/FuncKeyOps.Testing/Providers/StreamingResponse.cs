using System.Text;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// A response body written and flushed piece by piece, so a relay in front of the fake can be
/// checked for buffering: every piece is on the wire before the next one is produced.
/// </summary>
internal sealed class StreamingResponse
{
    private readonly FakeExchange _exchange;
    private readonly string _newline;
    private int _chunksWritten;

    internal StreamingResponse(FakeExchange exchange, string newline)
    {
        _exchange = exchange;
        _newline = newline;
    }

    /// <summary>Writes a piece that is not a text delta; never paced.</summary>
    public Task WriteAsync(string text) => WriteAndFlushAsync(text);

    /// <summary>Writes one text-delta piece: waits for the pacer first, signals it after the flush; a queued mid-stream drop or stall takes the place of a piece.</summary>
    public async Task WriteChunkAsync(string text)
    {
        var pacer = _exchange.Pacer;
        if (pacer is not null)
        {
            await pacer.WaitForPermissionAsync(_exchange.Aborted);
        }

        if (_exchange.DropAfterChunks is { } limit && _chunksWritten >= limit)
        {
            _exchange.Recorded.MarkAborted();
            _exchange.Context.Abort();
            throw new OperationCanceledException("Stream dropped on purpose by the fake.");
        }

        if (_exchange.StallAfterChunks is { } quietFrom && _chunksWritten >= quietFrom)
        {
            await _exchange.StallAsync();
        }

        await WriteAndFlushAsync(text);
        _chunksWritten++;
        pacer?.MarkSent();
    }

    public Task WriteEventAsync(string? eventName, string data) => WriteAsync(FormatEvent(eventName, data));

    public Task WriteEventChunkAsync(string? eventName, string data) => WriteChunkAsync(FormatEvent(eventName, data));

    private string FormatEvent(string? eventName, string data)
    {
        var text = new StringBuilder();
        if (eventName is not null)
        {
            text.Append("event: ").Append(eventName).Append(_newline);
        }

        return text.Append("data: ").Append(data).Append(_newline).Append(_newline).ToString();
    }

    private async Task WriteAndFlushAsync(string text)
    {
        var response = _exchange.Context.Response;
        await response.WriteAsync(text, _exchange.Aborted);
        await response.Body.FlushAsync(_exchange.Aborted);
    }
}
