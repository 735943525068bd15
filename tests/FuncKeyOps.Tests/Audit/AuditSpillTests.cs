using System.Text;
using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.Testing.Storage;

namespace FuncKeyOps.Tests.Audit;

/// <summary>The spill file on its own terms: stopping on hanging storage, torn lines, slots, limits and WhenFull.</summary>
public class AuditSpillTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 3, 8, 0, 0, TimeSpan.Zero);

    private static Dictionary<string, string?> Settings(string spillPath, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Audit:Shards"] = "1",
            ["Audit:Linger"] = "00:00:00",
            ["Audit:Capacity"] = "10",
            ["Audit:SpillPath"] = spillPath,
        };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task Stopping_while_storage_hangs_spills_the_buffer_after_the_grace_and_a_new_writer_replays_it()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        using var spill = new TempFolder();
        var records = Enumerable.Range(0, 30).Select(i => AuditRecords.Full($"req-{i:D2}", Now.AddSeconds(i))).ToList();

        var clock = new SignallingClock(Now);
        await using (var first = await AuditHarness.CreateAsync(azurite.ConnectionString, clock, Settings(spill.Path)))
        {
            await first.StartAsync();
            azurite.Pause();
            foreach (var record in records)
                first.Writer.Enqueue(record);
            Assert.Equal(records.Count, first.Writer.PendingCount);

            // The write in flight hangs on the frozen storage; only the stop grace (on the fake clock) ends it.
            var stop = first.Writer.StopAsync(CancellationToken.None);
            Assert.Equal(TimeSpan.FromSeconds(2), await clock.NextTimerAsync());
            Assert.False(stop.IsCompleted);
            clock.Advance(TimeSpan.FromSeconds(2));
            await stop.WaitAsync(AuditHarness.Timeout);

            Assert.Equal(0, first.Writer.DroppedCount);
            Assert.Equal(records.Count, first.Writer.PendingCount);
            Assert.Equal(records.Count, SpilledLines(spill.Path).Count);
        }

        azurite.Resume();
        await using var second = await AuditHarness.CreateAsync(azurite.ConnectionString, settings: Settings(spill.Path));
        await second.StartAsync();
        await second.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        Assert.Equal(records, await second.Query.QueryAsync(Now, Now.AddMinutes(1)));
        Assert.Equal(0, second.Writer.PendingCount);
        Assert.Equal(0, second.Writer.DroppedCount);
        Assert.Empty(SpilledLines(spill.Path));
    }

    [Fact]
    public async Task A_torn_last_line_is_skipped_and_counted_and_the_rest_of_the_segment_is_replayed()
    {
        using var spill = new TempFolder();
        var records = Enumerable.Range(0, 3).Select(i => AuditRecords.Full($"req-{i}", Now.AddSeconds(i))).ToList();
        var lines = records.Select(r => JsonSerializer.Serialize(r, AuditSpillJson.Default.AuditRecord)).ToList();
        var slot = Directory.CreateDirectory(Path.Combine(spill.Path, "slot-0")).FullName;
        // A crash in the middle of appending the third row: half a line, no newline.
        File.WriteAllText(Path.Combine(slot, "0000000007.jsonl"), lines[0] + "\n" + lines[1] + "\n" + lines[2][..(lines[2].Length / 2)], Encoding.UTF8);

        await using var audit = await AuditHarness.CreateAsync(settings: Settings(spill.Path));
        await audit.StartAsync();
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        Assert.Equal(records.Take(2), await audit.Query.QueryAsync(Now, Now.AddMinutes(1)));
        Assert.Equal(1, audit.Writer.DroppedCount);
        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Empty(Directory.GetFiles(slot, "*.jsonl"));
        Assert.Contains(audit.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("1 unreadable lines", StringComparison.Ordinal));

        // New appends after a restart go to a new segment, never after the torn line.
        Assert.Equal(slot, audit.Writer.SpillFolder);
    }

    [Fact]
    public async Task Two_writers_on_one_spill_path_take_separate_slots_and_owner_only_folders()
    {
        using var spill = new TempFolder();
        await using var first = await AuditHarness.CreateAsync(settings: Settings(spill.Path));
        await using var second = await AuditHarness.CreateAsync(settings: Settings(spill.Path));

        Assert.Equal(Path.Combine(spill.Path, "slot-0"), first.Writer.SpillFolder);
        Assert.Equal(Path.Combine(spill.Path, "slot-1"), second.Writer.SpillFolder);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(second.Writer.SpillFolder!));
    }

    [Fact]
    public async Task With_drop_rows_beyond_the_spill_limit_are_dropped_and_calls_are_never_refused()
    {
        using var spill = new TempFolder();
        await using var audit = await AuditHarness.CreateAsync(settings: Settings(spill.Path, ("Audit:WhenFull", "drop"), ("Audit:SpillLimitBytes", "4096")));

        // Not started: nothing drains. 10 rows fill memory, a few fill 4 KiB of spill, the rest are dropped.
        for (var i = 0; i < 40; i++)
            audit.Writer.Enqueue(AuditRecords.Full($"req-{i:D2}", Now));

        var spilled = SpilledLines(spill.Path).Count;
        Assert.InRange(spilled, 1, 29);
        Assert.Equal(40 - 10 - spilled, audit.Writer.DroppedCount);
        Assert.True(((IAuditSink)audit.Writer).HasRoom);
    }

    [Fact]
    public async Task With_reject_a_full_spill_refuses_calls_and_keeps_the_refusals_rows_in_the_reserve()
    {
        using var spill = new TempFolder();
        await using var audit = await AuditHarness.CreateAsync(settings: Settings(spill.Path,
            ("Audit:WhenFull", "reject"), ("Audit:SpillLimitBytes", "4096"), ("Audit:SpillReserveBytes", "65536")));
        IAuditSink sink = audit.Writer;

        var enqueued = 0;
        while (sink.HasRoom)
            sink.Enqueue(AuditRecords.Full($"req-{enqueued++:D3}", Now));
        Assert.InRange(enqueued, 11, 40);

        // Refused calls' rows (and rows of calls already under way) still fit: the reserve.
        for (var i = 0; i < 50; i++)
            sink.Enqueue(AuditRecords.Minimal($"refused-{i:D2}", Now) with { Status = 503, ErrorCode = "audit_unavailable" });
        Assert.Equal(0, audit.Writer.DroppedCount);
        Assert.Equal(enqueued + 50, audit.Writer.PendingCount);
        Assert.False(sink.HasRoom);
    }

    [Fact]
    public async Task With_room_in_memory_the_call_check_allocates_nothing_and_never_touches_the_spill()
    {
        using var spill = new TempFolder();
        await using var audit = await AuditHarness.CreateAsync(settings: Settings(spill.Path));
        IAuditSink sink = audit.Writer;
        for (var i = 0; i < 5; i++)
            sink.Enqueue(AuditRecords.Full($"req-{i}", Now));
        Assert.True(sink.HasRoom);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var room = true;
        for (var i = 0; i < 1000; i++)
            room &= sink.HasRoom;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(room);
        // The spill is opened only when the buffer is full (or at start): no slot folder exists yet.
        Assert.Empty(Directory.GetDirectories(spill.Path));
    }

    private static List<string> SpilledLines(string spillPath) =>
        [.. Directory.GetFiles(spillPath, "*.jsonl", SearchOption.AllDirectories).SelectMany(File.ReadLines)];
}
