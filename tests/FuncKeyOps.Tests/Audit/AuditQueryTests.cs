using FuncKeyOps.Audit;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Tests.Audit;

public class AuditQueryTests
{
    private static readonly DateTimeOffset From = new(2026, 6, 30, 23, 58, 20, TimeSpan.Zero);
    private static readonly DateTimeOffset To = new(2026, 7, 1, 0, 1, 40, TimeSpan.Zero);

    [Fact]
    public async Task Only_rows_inside_the_window_are_returned_in_time_order()
    {
        await using var audit = await AuditHarness.CreateAsync();
        var inside = new[]
        {
            AuditRecords.Full("at-from", From),
            AuditRecords.Full("june", From.AddSeconds(39), relayKeyId: "rk-2"),
            AuditRecords.Full("july", new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero)),
            AuditRecords.Full("before-to", To.AddMilliseconds(-1), relayKeyId: "rk-2"),
        };
        var outside = new[]
        {
            AuditRecords.Full("before-from", From.AddMilliseconds(-1)),           // same minute as from
            AuditRecords.Full("at-to", To, relayKeyId: "rk-2"),                     // same minute as to; to is exclusive
            AuditRecords.Full("earlier-minute", From.AddMinutes(-1)),
            AuditRecords.Full("later-minute", To.AddMinutes(1), relayKeyId: "rk-2"),
            AuditRecords.Full("previous-month", From.AddDays(-20)),
        };
        await WriteAsync(audit, outside.Concat(inside).Reverse());

        Assert.Equal(inside, await audit.Query.QueryAsync(From, To));
        Assert.Equal(inside.Where(r => r.RelayKeyId == "rk-2"), await audit.Query.QueryAsync(From, To, relayKeyId: "rk-2"));
        Assert.Empty(await audit.Query.QueryAsync(From, To, relayKeyId: "rk-unknown"));
        Assert.Empty(await audit.Query.QueryAsync(From, From));
    }

    [Fact]
    public async Task A_limit_returns_the_earliest_rows()
    {
        await using var audit = await AuditHarness.CreateAsync();
        // Three rows a minute over twenty minutes, spread over the shards; written latest first.
        var records = Enumerable.Range(0, 60).Select(i => AuditRecords.Full($"req-{i:D2}", From.AddSeconds(i * 20))).ToList();
        await WriteAsync(audit, Enumerable.Reverse(records));

        Assert.Equal(records.Take(7), await audit.Query.QueryAsync(From, From.AddHours(1), limit: 7));
        Assert.Equal(records.Take(1), await audit.Query.QueryAsync(From, From.AddHours(1), limit: 1));
        Assert.Equal(records, await audit.Query.QueryAsync(From, From.AddHours(1), limit: 60));
    }

    [Fact]
    public async Task Months_without_a_table_read_as_empty_and_are_not_created()
    {
        await using var audit = await AuditHarness.CreateAsync();
        var far = new DateTimeOffset(2031, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.Empty(await audit.Query.QueryAsync(far, far.AddDays(31)));

        var created = new List<string>();
        await foreach (var table in audit.Tables.Service.QueryAsync(t => t.Name == audit.Tables.PhysicalName(TableNames.Audit(far))))
            created.Add(table.Name);
        Assert.Empty(created);
    }

    [Fact]
    public async Task Invalid_arguments_are_refused()
    {
        await using var audit = await AuditHarness.CreateAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => audit.Query.QueryAsync(From, To, limit: 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => audit.Query.QueryAsync(From, To, limit: AuditQuery.MaxLimit + 1));
        await Assert.ThrowsAsync<ArgumentException>(() => audit.Query.QueryAsync(To, From));
    }

    private static async Task WriteAsync(AuditHarness audit, IEnumerable<AuditRecord> records)
    {
        await audit.StartAsync();
        foreach (var record in records)
            audit.Writer.Enqueue(record);
        await audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
    }
}
