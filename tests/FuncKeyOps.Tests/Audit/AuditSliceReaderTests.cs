using Azure.Data.Tables;
using FuncKeyOps.Audit;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.Audit;

/// <summary>
/// <see cref="AuditSliceReader"/> on Azurite: every row of a range exactly once, whatever the range cuts (seconds, a
/// dense second of several pages, the turn of a month) and however sparse the rows; a reader that stops early is let go.
/// </summary>
public sealed class AuditSliceReaderTests
{
    private static readonly DateTimeOffset Turn = new(2026, 2, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // A dense second (2,500 rows: three pages) just before the turn of the month, a second on each side of it, rows on
    // exact second and sub-second boundaries, and a sparse tail spread over an hour after it.
    private static List<AuditRecord> Rows()
    {
        var rows = new List<AuditRecord>();
        var dense = Turn.AddSeconds(-3);
        for (var i = 0; i < 2500; i++)
            rows.Add(Row(dense.AddTicks(i * (TimeSpan.TicksPerSecond / 2500)), rows.Count));
        foreach (var offset in new[] { -1.0, -0.5, -0.001, 0, 0.001, 0.5, 1, 1.25, 59.999 })
            rows.Add(Row(Turn.AddSeconds(offset), rows.Count));
        for (var i = 0; i < 40; i++)
            rows.Add(Row(Turn.AddSeconds(90 + i * 87.3), rows.Count));
        return rows;
    }

    private static AuditRecord Row(DateTimeOffset time, int n) => new()
    {
        RequestId = "req-" + n.ToString("D5", System.Globalization.CultureInfo.InvariantCulture),
        Time = time,
        RelayKeyId = "rk-" + (n % 7).ToString(System.Globalization.CultureInfo.InvariantCulture),
        Provider = "openai",
        ProviderKeyName = n % 3 == 0 ? "pk-a" : "pk-b",
        Method = "POST",
        Path = "/v1/chat/completions",
        Status = 200,
    };

    private static async Task<TableStore> SeedAsync(List<AuditRecord> rows)
    {
        var tables = await TestTables.CreateAsync();
        foreach (var month in rows.GroupBy(r => TableNames.Audit(r.Time)))
        {
            var table = await tables.GetTableAsync(month.Key);
            var batches = month.Select(r => AuditEntity.ToEntity(r, shards: 16))
                .GroupBy(e => e.PartitionKey, StringComparer.Ordinal)
                .SelectMany(p => p.Chunk(100));
            foreach (var batch in batches)
                await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.Add, e)));
        }
        return tables;
    }

    private static async Task<List<string>> ReadAsync(TableStore tables, DateTimeOffset from, DateTimeOffset to, string? where = null)
    {
        var ids = new List<string>();
        using var timeout = new CancellationTokenSource(Timeout);
        await foreach (var entity in AuditSliceReader.ReadAsync(tables, from, to, ["RowKey", "Time"], timeout.Token, where))
            ids.Add(entity.RowKey);
        return ids;
    }

    [Fact]
    public async Task Every_row_of_a_range_comes_once_whatever_the_range_cuts()
    {
        var rows = Rows();
        var tables = await SeedAsync(rows);
        var ranges = new (DateTimeOffset From, DateTimeOffset To)[]
        {
            (Turn.AddHours(-1), Turn.AddHours(2)),                   // all of it, across the turn of the month
            (Turn.AddSeconds(-3), Turn.AddSeconds(-2)),              // the dense second alone: three pages
            (Turn.AddSeconds(-2.5), Turn.AddSeconds(0.5)),           // cutting a second at both ends, across the turn
            (Turn.AddSeconds(-0.001), Turn.AddSeconds(0.001)),       // two milliseconds across the turn (Azurite compares times to the millisecond)
            (Turn.AddSeconds(1), Turn.AddSeconds(1.25)),             // the end excludes the row on it
            (Turn.AddMinutes(5), Turn.AddMinutes(50)),               // sparse
            (Turn.AddDays(3), Turn.AddDays(4)),                      // nothing there
            (Turn.AddMonths(-3), Turn.AddMonths(-2)),                // a month whose table does not exist
        };
        foreach (var (from, to) in ranges)
        {
            var expected = rows.Where(r => r.Time >= from && r.Time < to).Select(r => AuditKeys.ToRowKey(r.RequestId)).Order(StringComparer.Ordinal).ToList();
            var read = await ReadAsync(tables, from, to);
            Assert.True(expected.SequenceEqual(read.Order(StringComparer.Ordinal)),
                $"[{from:O}, {to:O}): {read.Count} rows read ({read.Distinct().Count()} distinct), {expected.Count} expected");
        }
    }

    [Fact]
    public async Task A_filter_on_other_columns_is_applied_by_the_service()
    {
        var rows = Rows();
        var tables = await SeedAsync(rows);
        var read = await ReadAsync(tables, Turn.AddHours(-1), Turn.AddHours(2), TableClient.CreateQueryFilter($"ProviderKeyName eq {"pk-a"}"));
        var expected = rows.Where(r => r.ProviderKeyName == "pk-a").Select(r => AuditKeys.ToRowKey(r.RequestId)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, read.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_reader_that_stops_early_lets_the_slices_go()
    {
        var tables = await SeedAsync(Rows());
        using var timeout = new CancellationTokenSource(Timeout);
        var taken = 0;
        await foreach (var _ in AuditSliceReader.ReadAsync(tables, Turn.AddHours(-1), Turn.AddHours(2), ["RowKey"], timeout.Token))
        {
            if (++taken == 10)
                break;
        }
        Assert.Equal(10, taken);
        Assert.False(timeout.IsCancellationRequested, "stopping early waited for the slices instead of cancelling them");
    }
}
