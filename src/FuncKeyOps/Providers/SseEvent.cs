using System.Buffers;

namespace FuncKeyOps.Providers;

/// <summary>
/// The <c>event:</c> name and <c>data:</c> payload of one raw SSE event (its lines without the blank line that
/// ends it), per the WHATWG event-stream rules: LF, CRLF or CR line ends, one optional space after the colon,
/// <c>:</c> comment lines ignored, several <c>data:</c> lines joined with LF.
/// </summary>
/// <remarks>
/// Providers send one data line per event, which is returned as a slice of the input without copying; only a
/// multi-line payload is joined, into a pooled buffer that <see cref="Dispose"/> returns.
/// </remarks>
internal readonly ref struct SseEvent
{
    private readonly byte[]? _joined;

    private SseEvent(ReadOnlySpan<byte> name, ReadOnlySpan<byte> data, byte[]? joined)
    {
        Name = name;
        Data = data;
        _joined = joined;
    }

    /// <summary>The <c>event:</c> field; empty when the event has none (the spec's default type, "message").</summary>
    public ReadOnlySpan<byte> Name { get; }

    /// <summary>The <c>data:</c> payload; empty when the event has none.</summary>
    public ReadOnlySpan<byte> Data { get; }

    public static SseEvent Parse(ReadOnlySpan<byte> raw)
    {
        ReadOnlySpan<byte> name = default;
        ReadOnlySpan<byte> data = default;
        byte[]? joined = null;
        var joinedLength = 0;
        var dataLines = 0;

        while (!raw.IsEmpty)
        {
            var end = raw.IndexOfAny((byte)'\n', (byte)'\r');
            var line = end < 0 ? raw : raw[..end];
            raw = end < 0 ? default : raw[(end + 1)..];
            if (line.IsEmpty || line[0] == (byte)':')
                continue;

            var colon = line.IndexOf((byte)':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? default : line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
                value = value[1..];

            if (field.SequenceEqual("event"u8))
            {
                name = value;
            }
            else if (field.SequenceEqual("data"u8))
            {
                if (dataLines++ == 0)
                {
                    data = value;
                    continue;
                }
                if (joined is null)
                {
                    // The joined payload is never longer than the raw event it came from.
                    joined = ArrayPool<byte>.Shared.Rent(data.Length + 1 + value.Length + raw.Length);
                    data.CopyTo(joined);
                    joinedLength = data.Length;
                }
                joined[joinedLength++] = (byte)'\n';
                value.CopyTo(joined.AsSpan(joinedLength));
                joinedLength += value.Length;
            }
        }

        return joined is null ? new SseEvent(name, data, null) : new SseEvent(name, joined.AsSpan(0, joinedLength), joined);
    }

    public void Dispose()
    {
        if (_joined is not null)
            ArrayPool<byte>.Shared.Return(_joined);
    }
}
