using FuncKeyOps.Audit;
using FuncKeyOps.Testing.Storage;

namespace FuncKeyOps.Tests.Audit;

/// <summary>Table Storage down: a private Azurite is stopped and started again under a running writer.</summary>
public class AuditOutageTests
{
    private static readonly DateTimeOffset Now = new(2026, 5, 20, 10, 15, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(4);

    // One shard, so that 250 rows of one minute make one partition and three transactions (100 + 100 + 50);
    // no linger, so the only timers are retry delays.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Audit:Shards"] = "1",
        ["Audit:Linger"] = "00:00:00",
        ["Audit:InitialRetryDelay"] = "00:00:01",
        ["Audit:MaxRetryDelay"] = "00:00:04",
    };

    [Fact]
    public async Task Rows_enqueued_while_storage_is_down_are_all_stored_once_when_it_is_back()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var clock = new SignallingClock(Now);
        await using var audit = await AuditHarness.CreateAsync(azurite.ConnectionString, clock, Settings);
        await audit.StartAsync();
        await azurite.StopAsync();

        var records = Enumerable.Range(0, 250).Select(i => AuditRecords.Full($"req-{i:D3}", Now.AddMilliseconds(i * 100))).ToList();
        foreach (var record in records)
            audit.Writer.Enqueue(record);
        var flush = audit.Writer.FlushAsync();

        // A retry delay is scheduled only after a write failed: the rows are held, not lost.
        await clock.NextTimerAsync();
        Assert.False(flush.IsCompleted);
        Assert.Equal(records.Count, audit.Writer.PendingCount);

        await azurite.StartAgainAsync();
        await clock.AdvanceUntilAsync(flush, MaxRetryDelay);

        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Equal(0, audit.Writer.DroppedCount);
        var rows = await audit.RawRowsAsync(Now);
        Assert.Equal(records.Count, rows.Count);
        Assert.Equal(records.Select(r => r.RequestId).Order(StringComparer.Ordinal), rows.Select(r => r.RowKey).Order(StringComparer.Ordinal));
        Assert.Equal(records, await audit.Query.QueryAsync(Now, Now.AddMinutes(1)));
        Assert.Contains(audit.Logs.Lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("kept in memory and retried", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Graceful_stop_writes_buffered_rows_without_waiting_out_the_backoff()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var clock = new SignallingClock(Now);
        await using var audit = await AuditHarness.CreateAsync(azurite.ConnectionString, clock, Settings);
        await audit.StartAsync();
        await azurite.StopAsync();

        var records = Enumerable.Range(0, 30).Select(i => AuditRecords.Full($"req-{i:D2}", Now.AddSeconds(i))).ToList();
        foreach (var record in records)
            audit.Writer.Enqueue(record);
        await clock.NextTimerAsync();
        Assert.Equal(records.Count, audit.Writer.PendingCount);

        // The clock is never advanced: only shutdown's own retry can write these rows.
        await azurite.StartAgainAsync();
        using var shutdown = new CancellationTokenSource(AuditHarness.Timeout);
        await audit.Writer.StopAsync(shutdown.Token);

        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Equal(records, await audit.Query.QueryAsync(Now, Now.AddMinutes(1)));

        // After shutdown a row is refused and counted, never thrown.
        audit.Writer.Enqueue(AuditRecords.Minimal("late", Now));
        Assert.Equal(1, audit.Writer.DroppedCount);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
    }

    [Fact]
    public async Task Without_a_spill_rows_still_unwritten_when_the_shutdown_timeout_ends_are_counted_and_logged()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var clock = new SignallingClock(Now);
        await using var audit = await AuditHarness.CreateAsync(azurite.ConnectionString, clock, new Dictionary<string, string?>(Settings)
        {
            ["Audit:SpillLimitBytes"] = "0",
        });
        await audit.StartAsync();
        await azurite.StopAsync();
        for (var i = 0; i < 5; i++)
            audit.Writer.Enqueue(AuditRecords.Full($"req-{i}", Now));
        await clock.NextTimerAsync();

        using var shutdown = new CancellationTokenSource();
        var stop = audit.Writer.StopAsync(shutdown.Token);
        // Shutdown retried at once, failed again and is backing off: the host's timeout ends now.
        await clock.NextTimerAsync();
        shutdown.Cancel();
        await stop.WaitAsync(AuditHarness.Timeout);
        await audit.Writer.ExecuteTask!.WaitAsync(AuditHarness.Timeout);

        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Equal(5, audit.Writer.DroppedCount);
        Assert.Contains(audit.Logs.Lines, l => l.StartsWith("Error ", StringComparison.Ordinal) && l.Contains("5 rows not stored", StringComparison.Ordinal));
        await Assert.ThrowsAsync<InvalidOperationException>(() => audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout));
    }
}
