using System.Text.Json;

namespace FuncKeyOps.Audit;

/// <summary>One segment being replayed: read a batch of rows at a time, skipping lines that do not parse.</summary>
internal sealed class AuditSpillSegment : IDisposable
{
    private readonly StreamReader _reader;

    public AuditSpillSegment(string path, long sequence)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Path = path;
        Sequence = sequence;
        // Final: nothing appends to a segment once it is opened for replay.
        Length = stream.Length;
        _reader = new StreamReader(stream, System.Text.Encoding.UTF8);
    }

    public string Path { get; }

    /// <summary>Bytes in the segment: what its removal frees of the spill limit.</summary>
    public long Length { get; }

    public long Sequence { get; }

    public bool AtEnd { get; private set; }

    /// <summary>Adds up to <paramref name="max"/> rows to <paramref name="batch"/>; returns how many lines were unreadable.</summary>
    public async Task<int> ReadAsync(List<AuditRecord> batch, int max, CancellationToken cancellationToken)
    {
        var unreadable = 0;
        while (batch.Count < max)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            if (line is null)
            {
                AtEnd = true;
                break;
            }
            if (Parse(line) is { } record)
                batch.Add(record);
            else if (line.Length > 0)
                unreadable++;
        }
        return unreadable;
    }

    // A line cut short by a crash mid-append is not JSON (or lacks a required field): skipped, not fatal.
    private static AuditRecord? Parse(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, AuditSpillJson.Default.AuditRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _reader.Dispose();
}
