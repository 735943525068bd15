using System.Buffers;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Relay;

/// <summary>
/// Splits a byte stream into SSE events (each ended by a blank line: LF LF, or CRLF CRLF whose tail is LF CR LF)
/// across arbitrary read boundaries, hands each to the usage reader, and (when asked) writes the events the reader
/// keeps. Memory is bounded by the largest event, capped by <c>maxEventBytes</c>.
/// </summary>
internal sealed class SseEventSplitter(int maxEventBytes)
{
    private byte[] _buffer = new byte[4096];
    private int _count;
    private int _scanned;

    /// <summary>An event outgrew the cap; splitting stopped and the caller passes bytes through.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Events split so far.</summary>
    public long Events { get; private set; }

    /// <param name="keptEvents">Where kept events (with their terminators) are written; null when only reading usage.</param>
    public void Feed(ReadOnlySpan<byte> chunk, IUsageReader usage, IBufferWriter<byte>? keptEvents)
    {
        if (Overflowed)
            return;
        Append(chunk);
        var start = 0;
        // Resume a little before where the last scan stopped: a terminator may straddle two reads.
        for (var i = Math.Max(_scanned - 2, 0); i < _count; i++)
        {
            if (_buffer[i] != (byte)'\n')
                continue;
            var length = TerminatorLength(i);
            if (length == 0)
                continue;
            var span = _buffer.AsSpan(start, i - start);
            Events++;
            if (usage.OnSseEvent(span))
                keptEvents?.Write(_buffer.AsSpan(start, i + length - start));
            start = i + length;
            i = start - 1;
        }

        var remaining = _count - start;
        if (remaining > maxEventBytes)
        {
            Overflowed = true;
            keptEvents?.Write(_buffer.AsSpan(start, remaining));
            _count = _scanned = 0;
            return;
        }
        _buffer.AsSpan(start, remaining).CopyTo(_buffer);
        _count = remaining;
        _scanned = remaining;
    }

    /// <summary>Bytes of an event the stream never finished.</summary>
    public ReadOnlyMemory<byte> TakeRemainder()
    {
        var rest = _buffer.AsSpan(0, _count).ToArray();
        _count = _scanned = 0;
        return rest;
    }

    // At a LF: LF LF ends an event (2 bytes from here), so does LF CR LF (3 bytes).
    private int TerminatorLength(int at)
    {
        if (at + 1 < _count && _buffer[at + 1] == (byte)'\n')
            return 2;
        if (at + 2 < _count && _buffer[at + 1] == (byte)'\r' && _buffer[at + 2] == (byte)'\n')
            return 3;
        return 0;
    }

    private void Append(ReadOnlySpan<byte> chunk)
    {
        if (_count + chunk.Length > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + chunk.Length));
        chunk.CopyTo(_buffer.AsSpan(_count));
        _count += chunk.Length;
    }
}
