using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FuncKeyOps.Audit;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Audit;

/// <summary>The writer holds a cycle's first row for Audit:Linger so that rows arriving soon after share a transaction.</summary>
public class AuditLingerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 8, 30, 0, TimeSpan.Zero);

    // One shard: the rows of one second are one partition, so a cycle's rows of that second make one transaction.
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Audit:Shards"] = "1",
        ["Audit:Linger"] = "00:00:30",
    };

    [Fact]
    public async Task Rows_arriving_within_the_linger_are_written_in_one_transaction_when_it_ends()
    {
        var clock = new SignallingClock(Now);
        await using var audit = await AuditHarness.CreateAsync(time: clock, settings: Settings);
        using var transactions = new StoredTransactions(audit);
        await audit.StartAsync();

        audit.Writer.Enqueue(AuditRecords.Full("req-1", Now));
        Assert.Equal(TimeSpan.FromSeconds(30), await clock.NextTimerAsync());
        clock.Advance(TimeSpan.FromSeconds(29));
        audit.Writer.Enqueue(AuditRecords.Full("req-2", Now.AddMilliseconds(900)));
        Assert.Equal(2, audit.Writer.PendingCount);
        Assert.Empty(transactions.Sizes);

        clock.Advance(TimeSpan.FromSeconds(1));
        await transactions.First.WaitAsync(AuditHarness.Timeout);

        Assert.Equal([2L], transactions.Sizes);
        Assert.Equal(["req-1", "req-2"], (await audit.Query.QueryAsync(Now, Now.AddMinutes(1))).Select(r => r.RequestId));
    }

    [Fact]
    public async Task Flush_and_shutdown_write_lingering_rows_without_waiting_for_the_linger()
    {
        // The clock never moves: only a flush or the stop can end these lingers.
        var clock = new SignallingClock(Now);
        await using var audit = await AuditHarness.CreateAsync(time: clock, settings: Settings);
        await audit.StartAsync();

        audit.Writer.Enqueue(AuditRecords.Full("req-1", Now));
        await clock.NextTimerAsync();
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
        Assert.Equal(0, audit.Writer.PendingCount);

        audit.Writer.Enqueue(AuditRecords.Full("req-2", Now));
        await clock.NextTimerAsync();
        using var shutdown = new CancellationTokenSource(AuditHarness.Timeout);
        await audit.Writer.StopAsync(shutdown.Token);

        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Equal(0, audit.Writer.DroppedCount);
        Assert.Equal(["req-1", "req-2"], (await audit.Query.QueryAsync(Now, Now.AddMinutes(1))).Select(r => r.RequestId));
    }

    /// <summary>The rows of each transaction the writer stored, from its funckeyops.audit.stored counter.</summary>
    private sealed class StoredTransactions : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<long> _sizes = new();
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public StoredTransactions(AuditHarness audit)
        {
            var factory = audit.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "funckeyops.audit.stored")
                    l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
            {
                _sizes.Enqueue(value);
                _first.TrySetResult();
            });
            _listener.Start();
        }

        public IReadOnlyList<long> Sizes => [.. _sizes];

        public Task First => _first.Task;

        public void Dispose() => _listener.Dispose();
    }
}
