using System.Diagnostics.Metrics;
using System.Text.Json;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.Audit;

public class AuditWriterTests
{
    private static readonly DateTimeOffset EndOfJanuary = new(2026, 1, 31, 23, 59, 30, 125, TimeSpan.Zero);

    [Fact]
    public async Task Rows_are_stored_with_every_field_across_shards_and_months()
    {
        await using var audit = await AuditHarness.CreateAsync();
        var times = new[]
        {
            EndOfJanuary,
            new DateTimeOffset(2026, 1, 31, 23, 59, 59, 999, TimeSpan.Zero),
            new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero),
            // Offsets other than UTC land in the UTC month: this is 2026-02-01T00:00:10.5Z.
            new DateTimeOffset(2026, 2, 1, 2, 0, 10, 500, TimeSpan.FromHours(2)),
        };
        var records = Enumerable.Range(0, 40).Select(i => AuditRecords.Full($"req-{i:D3}", times[i % times.Length])).ToList();
        records.Add(AuditRecords.Minimal("req-minimal", times[0]));

        await audit.StartAsync();
        foreach (var record in records)
            audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var stored = await audit.Query.QueryAsync(times[0].AddHours(-1), times[^1].AddHours(1));
        var expected = records.OrderBy(r => r.Time).ThenBy(r => r.RequestId, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, stored);

        var january = await audit.RawRowsAsync(times[0]);
        var february = await audit.RawRowsAsync(times[2]);
        Assert.Equal(records.Count(r => r.Time.UtcDateTime.Month == 1), january.Count);
        Assert.Equal(records.Count(r => r.Time.UtcDateTime.Month == 2), february.Count);
        var shards = january.Concat(february).Select(r => r.PartitionKey.Split('-')[1]).Distinct().Count();
        Assert.True(shards > 1, "rows of one minute should spread over several shards");
        var configured = audit.Services.GetRequiredService<IOptions<AuditOptions>>().Value.Shards;
        foreach (var row in january.Concat(february))
        {
            var record = records.Single(r => r.RequestId == row.RowKey);
            Assert.Equal(TableKeys.AuditPartition(record.Time, AuditKeys.Shard(record.RequestId, configured)), row.PartitionKey);
        }

        // Null fields are not stored at all.
        var minimal = january.Single(r => r.RowKey == "req-minimal");
        Assert.Equal(
            new[] { "LatencyMs", "Method", "Path", "Provider", "RequestBytes", "Status", "Streamed", "Time" },
            minimal.Keys.Where(k => k is not ("PartitionKey" or "RowKey" or "Timestamp" or "odata.etag")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_thousand_rows_enqueued_concurrently_are_all_stored_once()
    {
        await using var audit = await AuditHarness.CreateAsync();
        await audit.StartAsync();
        var start = new DateTimeOffset(2026, 3, 14, 15, 0, 0, TimeSpan.Zero);
        using var go = new ManualResetEventSlim();
        var writers = Enumerable.Range(0, 20).Select(t => Task.Run(() =>
        {
            go.Wait();
            for (var i = 0; i < 50; i++)
                audit.Writer.Enqueue(AuditRecords.Full($"t{t:D2}-{i:D2}", start.AddSeconds(t * 50 + i)));
        })).ToArray();
        go.Set();
        await Task.WhenAll(writers).WaitAsync(AuditHarness.Timeout);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var stored = await audit.Query.QueryAsync(start, start.AddHours(1), limit: AuditQuery.MaxLimit);
        Assert.Equal(1000, stored.Count);
        Assert.Equal(1000, stored.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(0, audit.Writer.PendingCount);
        Assert.Equal(0, audit.Writer.DroppedCount);
    }

    [Fact]
    public async Task A_full_buffer_keeps_the_oldest_rows_and_counts_the_drops_with_one_error()
    {
        await using var audit = await AuditHarness.CreateAsync(settings: new Dictionary<string, string?>
        {
            ["Audit:Capacity"] = "10",
            ["Audit:SpillLimitBytes"] = "0", // no spill: what a full buffer does on its own
        });
        var factory = audit.Services.GetRequiredService<IMeterFactory>();
        long measured = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == factory && instrument.Name == "funckeyops.audit.dropped")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "reason", Value: "full" })
                    Interlocked.Add(ref measured, value);
            }
        });
        listener.Start();

        // Not started yet: nothing drains, so the buffer fills deterministically.
        var records = Enumerable.Range(0, 25).Select(i => AuditRecords.Full($"req-{i:D2}", EndOfJanuary.AddSeconds(i))).ToList();
        foreach (var record in records)
            audit.Writer.Enqueue(record);

        Assert.Equal(15, audit.Writer.DroppedCount);
        Assert.Equal(10, audit.Writer.PendingCount);
        Assert.Equal(15, Interlocked.Read(ref measured));
        var errors = audit.Logs.Lines.Where(l => l.StartsWith("Error ", StringComparison.Ordinal)).ToList();
        Assert.Single(errors);
        Assert.Contains("dropping audit rows", errors[0], StringComparison.Ordinal);

        await audit.StartAsync();
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
        var stored = await audit.Query.QueryAsync(EndOfJanuary, EndOfJanuary.AddMinutes(1));
        Assert.Equal(records.Take(10), stored);
        Assert.Contains(audit.Logs.Lines, l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains("15 audit rows were dropped", StringComparison.Ordinal));

        // The burst has ended, so the next one (rows refused after shutdown) logs its own single error.
        await audit.Writer.StopAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
            audit.Writer.Enqueue(AuditRecords.Minimal($"late-{i}", EndOfJanuary));
        Assert.Equal(18, audit.Writer.DroppedCount);
        Assert.Equal(2, audit.Logs.Lines.Count(l => l.StartsWith("Error ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_stored_row_holds_only_audit_fields_and_no_secret()
    {
        await using var audit = await AuditHarness.CreateAsync();
        const string relayKey = "fko_k1_SuperSecretRelayValue42";
        const string providerKey = "sk-proj-abcdefghijklmnopqrstuvwx";
        var record = AuditRecords.Full("req-secret", EndOfJanuary) with
        {
            Path = $"v1beta/models/gemini-2.0-flash:generateContent?key={relayKey}",
            UserAgent = $"curl/8.5 (Bearer {providerKey})",
        };
        await audit.StartAsync();
        audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var row = Assert.Single(await audit.RawRowsAsync(EndOfJanuary));
        var allowed = typeof(AuditRecord).GetProperties().Select(p => p.Name)
            .Concat(["PartitionKey", "RowKey", "Timestamp", "odata.etag"]).ToHashSet(StringComparer.Ordinal);
        Assert.All(row.Keys, key => Assert.Contains(key, allowed));
        var text = JsonSerializer.Serialize(row);
        Assert.DoesNotContain("SuperSecretRelayValue42", text, StringComparison.Ordinal);
        Assert.DoesNotContain(providerKey, text, StringComparison.Ordinal);
        Assert.Equal("v1beta/models/gemini-2.0-flash:generateContent", row.GetString("Path"));
    }

    [Fact]
    public async Task Request_ids_with_characters_forbidden_in_keys_are_stored_and_read_back()
    {
        await using var audit = await AuditHarness.CreateAsync();
        var ids = new[] { "a/b", "c\\d", "e#f", "g?h", "i%2Fj", "k\u0001l", "0HN7:00000001" };
        await audit.StartAsync();
        foreach (var (id, i) in ids.Select((id, i) => (id, i)))
            audit.Writer.Enqueue(AuditRecords.Minimal(id, EndOfJanuary.AddSeconds(i)));
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var stored = await audit.Query.QueryAsync(EndOfJanuary, EndOfJanuary.AddMinutes(1));
        Assert.Equal(ids, stored.Select(r => r.RequestId));
        Assert.Equal(0, audit.Writer.DroppedCount);
    }

    [Fact]
    public async Task A_request_enqueued_twice_is_one_row_with_the_later_values()
    {
        await using var audit = await AuditHarness.CreateAsync();
        var first = AuditRecords.Full("req-twice", EndOfJanuary) with { Status = 200 };
        var second = first with { Status = 502, ErrorCode = "upstream_error" };
        audit.Writer.Enqueue(first);
        audit.Writer.Enqueue(second);
        await audit.StartAsync();
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        Assert.Equal(new[] { second }, await audit.Query.QueryAsync(EndOfJanuary, EndOfJanuary.AddMinutes(1)));
        Assert.Equal(0, audit.Writer.PendingCount);
    }

    [Fact]
    public void Shards_are_stable_across_processes_and_all_used()
    {
        // FNV-1a of "req-1": a value fixed here, so a switch to a per-process hash fails this test.
        Assert.Equal((int)(0xDB160F11u % 4), AuditKeys.Shard("req-1", 4));
        Assert.Equal((int)(0xDB160F11u % 7), AuditKeys.Shard("req-1", 7));
        var used = Enumerable.Range(0, 1000).Select(i => AuditKeys.Shard($"req-{i}", 4)).Distinct().Order();
        Assert.Equal(new[] { 0, 1, 2, 3 }, used);
    }

    [Fact]
    public async Task A_request_id_written_again_in_a_later_cycle_replaces_its_row_and_nothing_is_dropped()
    {
        // The clock never moves: the first write inserts and the conflict must be retried as an upsert at once,
        // not after a backoff (which would never end here).
        await using var audit = await AuditHarness.CreateAsync(time: new SignallingClock(EndOfJanuary));
        await audit.StartAsync();
        audit.Writer.Enqueue(AuditRecords.Full("req-twice", EndOfJanuary));
        audit.Writer.Enqueue(AuditRecords.Full("req-other", EndOfJanuary));
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        // Same partition, same RowKey: the later row replaces the earlier one.
        audit.Writer.Enqueue(AuditRecords.Full("req-twice", EndOfJanuary) with { Status = 200 });
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);

        var stored = await audit.Query.QueryAsync(EndOfJanuary, EndOfJanuary.AddMinutes(1));
        Assert.Equal(200, stored.Single(r => r.RequestId == "req-twice").Status);
        Assert.Equal(2, stored.Count);
        Assert.Equal(0, audit.Writer.DroppedCount);
        Assert.Equal(0, audit.Writer.PendingCount);
    }
}
