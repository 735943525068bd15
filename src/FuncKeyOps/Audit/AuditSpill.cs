using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Audit;

/// <summary>
/// Where audit rows go when the memory buffer is full: append-only JSON-lines segments on local disk, replayed
/// into Table Storage when it answers again, also by the next process after a restart. Each process holds one
/// slot folder (<c>SpillPath/slot-N</c>) through an exclusive lock file, so two processes on one machine never
/// append to or replay the same segment, and a restarted process takes over the slot its predecessor left.
/// Appends are serialised; a segment is deleted only after every row in it is stored.
/// </summary>
internal sealed partial class AuditSpill : IDisposable
{
    // More worker processes than this on one instance share nothing: the rest run without a spill (and log it).
    private const int MaxSlots = 16;
    private const string SegmentSuffix = ".jsonl";

    private readonly string _folder;
    private readonly FileStream _slotLock;
    private readonly long _limit;
    private readonly long _reserve;
    private readonly ILogger _logger;
    private readonly Lock _appendLock = new();
    private FileStream? _appending;
    private string? _appendingPath;
    private long _nextSequence;
    private long _bytes;
    private long _rows;
    private bool _failed;
    private bool _disposed;

    private AuditSpill(string folder, FileStream slotLock, AuditOptions options, ILogger logger)
    {
        _folder = folder;
        _slotLock = slotLock;
        _limit = options.SpillLimitBytes;
        _reserve = options.WhenFull == AuditWhenFull.Reject ? options.SpillReserveBytes : 0;
        _logger = logger;
        foreach (var segment in Segments())
        {
            _bytes += new FileInfo(segment).Length;
            _rows += CountLines(segment);
            _nextSequence = Math.Max(_nextSequence, SequenceOf(segment) + 1);
        }
        if (_bytes > 0)
            LogFound(_logger, _rows, _bytes, _folder);
    }

    /// <summary>Rows appended and not yet stored (a torn last line may be counted until its segment is replayed).</summary>
    public long Rows => Interlocked.Read(ref _rows);

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Below <see cref="AuditOptions.SpillLimitBytes"/>: a new call may be served (the reserve is for refusals).</summary>
    public bool HasRoom => !Volatile.Read(ref _failed) && Interlocked.Read(ref _bytes) < _limit;

    /// <summary>Number of the newest segment (the one appended to, if any); segments are replayed in number order.</summary>
    public long NewestSegment => Interlocked.Read(ref _nextSequence) - 1;

    /// <summary>The slot folder in use, for logs and tests.</summary>
    public string Folder => _folder;

    /// <summary>The spill in <see cref="AuditOptions.SpillPath"/>, or null when it is switched off or cannot be used (logged).</summary>
    public static AuditSpill? Open(AuditOptions options, ILogger logger)
    {
        if (options.SpillLimitBytes <= 0)
            return null;
        try
        {
            CreatePrivateFolder(options.SpillPath, changeExisting: false);
            for (var slot = 0; slot < MaxSlots; slot++)
            {
                var folder = Path.Combine(options.SpillPath, $"slot-{slot}");
                CreatePrivateFolder(folder, changeExisting: true);
                if (TryLock(folder) is { } slotLock)
                    return new AuditSpill(folder, slotLock, options, logger);
            }
            LogNoSlot(logger, options.SpillPath, MaxSlots);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            LogUnusable(logger, options.SpillPath, e);
        }
        return null;
    }

    /// <summary>
    /// Appends one row as one line in one write, so a crash can tear only the last line. False (never an
    /// exception: this runs on the request path) when the limit is reached or the disk fails.
    /// </summary>
    public bool TryAppend(AuditRecord record, bool useReserve)
    {
        var line = JsonSerializer.SerializeToUtf8Bytes(record, AuditSpillJson.Default.AuditRecord);
        var length = line.Length + 1;
        lock (_appendLock)
        {
            if (_disposed || _failed || _bytes + length > _limit + (useReserve ? _reserve : 0))
                return false;
            try
            {
                if (_appending is null)
                {
                    if (_bytes == 0)
                        LogSpilling(_logger, _folder);
                    _appendingPath = Path.Combine(_folder, $"{Interlocked.Increment(ref _nextSequence) - 1:D10}{SegmentSuffix}");
                    _appending = new FileStream(_appendingPath, PrivateFile(FileMode.CreateNew, FileAccess.Write, FileShare.Read));
                }
                // Unbuffered stream: one write call per line, in the OS before Enqueue returns (a process crash keeps it).
                Array.Resize(ref line, length);
                line[^1] = (byte)'\n';
                _appending.Write(line);
                Interlocked.Add(ref _bytes, length);
                Interlocked.Increment(ref _rows);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Disk full or gone: stop trying (each attempt would fail the same way) and let WhenFull decide.
                Volatile.Write(ref _failed, true);
                LogAppendFailed(_logger, _folder, e);
                return false;
            }
        }
    }

    /// <summary>The oldest segment for replay, closed for appends first when it is the one being written; null when there is none.</summary>
    public AuditSpillSegment? OpenOldest()
    {
        lock (_appendLock)
        {
            if (_disposed)
                return null;
            var oldest = Segments().FirstOrDefault();
            if (oldest is null)
            {
                // Segments removed by hand: forget them rather than look for them again on every cycle.
                Interlocked.Exchange(ref _bytes, 0);
                Interlocked.Exchange(ref _rows, 0);
                return null;
            }
            if (oldest == _appendingPath)
                CloseAppending();
            return new AuditSpillSegment(oldest, SequenceOf(oldest));
        }
    }

    /// <summary>Rows of a segment that are stored (or could not be read): no longer pending.</summary>
    public void Settle(long rows) => Interlocked.Add(ref _rows, -rows);

    /// <summary>Deletes a segment whose every row is stored. A crash before this replays it again, which the upserts make harmless.</summary>
    public void Remove(AuditSpillSegment segment)
    {
        segment.Dispose();
        try
        {
            File.Delete(segment.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Its rows are stored: a segment left behind is only replayed again (upserts) by the next process.
            LogRemoveFailed(_logger, segment.Path, e);
        }
        if (Interlocked.Add(ref _bytes, -segment.Length) <= 0)
        {
            // Lines counted at start-up that could not be read (a torn last line) leave with their segment.
            Interlocked.Exchange(ref _bytes, 0);
            Interlocked.Exchange(ref _rows, 0);
            LogEmpty(_logger, _folder);
        }
    }

    public void Dispose()
    {
        lock (_appendLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            try
            {
                CloseAppending();
            }
            catch (IOException e)
            {
                LogAppendFailed(_logger, _folder, e);
            }
            _slotLock.Dispose();
        }
    }

    private void CloseAppending()
    {
        if (_appending is null)
            return;
        try
        {
            // A process crash keeps what was written; this also keeps it through a power loss.
            _appending.Flush(flushToDisk: true);
        }
        finally
        {
            _appending.Dispose();
            _appending = null;
            _appendingPath = null;
        }
    }

    private IEnumerable<string> Segments() =>
        Directory.EnumerateFiles(_folder, "*" + SegmentSuffix).Order(StringComparer.Ordinal);

    private static long SequenceOf(string segment) =>
        long.TryParse(Path.GetFileNameWithoutExtension(segment), out var sequence) ? sequence : 0;

    private static long CountLines(string segment)
    {
        using var stream = new FileStream(segment, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var buffer = new byte[64 * 1024];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }

    // An exclusive lock (on Unix .NET takes flock for FileShare.None), released by the OS when the process dies.
    private static FileStream? TryLock(string folder)
    {
        try
        {
            return new FileStream(Path.Combine(folder, "lock"), PrivateFile(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            return null;
        }
    }

    // Owner-only: rows hold no secret, but source addresses and paths are nobody else's business on a shared host.
    private static void CreatePrivateFolder(string path, bool changeExisting)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        var existed = Directory.Exists(path);
        Directory.CreateDirectory(path, ownerOnly);
        // Only folders of our own: a configured SpillPath that already exists (say /tmp) keeps its mode.
        if (existed && changeExisting)
            File.SetUnixFileMode(path, ownerOnly);
    }

    private static FileStreamOptions PrivateFile(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit buffer full: audit rows now go to the spill folder {Folder} until Table Storage takes them")]
    private static partial void LogSpilling(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting replayed audit spill segment {Segment} failed")]
    private static partial void LogRemoveFailed(ILogger logger, string segment, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit spill folder {Folder} replayed into Table Storage and empty")]
    private static partial void LogEmpty(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Found {Rows} audit rows ({Bytes} bytes) spilled by an earlier process in {Folder}; replaying them")]
    private static partial void LogFound(ILogger logger, long rows, long bytes, string folder);

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit spill folder {Folder} cannot be used; rows beyond the memory buffer follow Audit:WhenFull")]
    private static partial void LogUnusable(ILogger logger, string folder, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "All {Slots} audit spill slots in {Folder} are held by other processes; this one runs without a spill")]
    private static partial void LogNoSlot(ILogger logger, string folder, int slots);

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending to the audit spill in {Folder} failed; rows beyond the memory buffer follow Audit:WhenFull from now on")]
    private static partial void LogAppendFailed(ILogger logger, string folder, Exception exception);
}
