using Azure.Data.Tables;
using FuncKeyOps.Storage;

namespace FuncKeyOps.Tests.Storage;

public class TableStoreTests
{
    [Fact]
    public async Task Concurrent_replace_with_a_stale_etag_is_detected()
    {
        var tables = await TestTables.CreateAsync();
        var table = await tables.GetTableAsync(TableNames.Rotations);
        await table.AddEntityAsync(new TableEntity("key-a", "r1") { ["Step"] = 0 });

        var first = await table.TryGetAsync<TableEntity>("key-a", "r1");
        var second = await table.TryGetAsync<TableEntity>("key-a", "r1");
        first!["Step"] = 1;
        second!["Step"] = 2;

        Assert.True(await table.TryReplaceAsync(first));
        Assert.False(await table.TryReplaceAsync(second));

        var stored = await table.TryGetAsync<TableEntity>("key-a", "r1");
        Assert.Equal(1, stored!.GetInt32("Step"));
        // The winner's ETag was refreshed, so it can write again.
        first["Step"] = 3;
        Assert.True(await table.TryReplaceAsync(first));
    }

    [Fact]
    public async Task Insert_of_an_existing_row_reports_false()
    {
        var tables = await TestTables.CreateAsync();
        var table = await tables.GetTableAsync(TableNames.RelayKeys);
        Assert.True(await table.TryInsertAsync(new TableEntity(TableKeys.RelayKeyPartition, "k1")));
        Assert.False(await table.TryInsertAsync(new TableEntity(TableKeys.RelayKeyPartition, "k1")));
        Assert.Null(await table.TryGetAsync<TableEntity>(TableKeys.RelayKeyPartition, "absent"));
    }

    [Fact]
    public async Task Parallel_writers_of_the_same_logical_names_do_not_collide()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => TestTables.CreateAsync()));
        await Task.WhenAll(stores.Select(async (store, i) =>
        {
            var table = await store.GetTableAsync(TableNames.Usage);
            await table.UpsertEntityAsync(new TableEntity("relay-key-1", "d20261123") { ["Tokens"] = (long)i });
        }));

        for (var i = 0; i < stores.Length; i++)
        {
            var table = await stores[i].GetTableAsync(TableNames.Usage);
            var rows = table.Query<TableEntity>().ToList();
            Assert.Single(rows);
            Assert.Equal(i, rows[0].GetInt64("Tokens"));
        }
        Assert.Equal(stores.Length, stores.Select(s => s.PhysicalName(TableNames.Usage)).Distinct().Count());
    }

    [Fact]
    public void Keys_follow_the_storage_layout()
    {
        var time = new DateTimeOffset(2026, 11, 23, 9, 5, 59, TimeSpan.FromHours(2));
        Assert.Equal("audit202611", TableNames.Audit(time));
        Assert.Equal("202611230705-5903", TableKeys.AuditPartition(time, 3));
        Assert.Equal("d20261123", TableKeys.DailyWindow(time));
        Assert.Equal("m202611", TableKeys.MonthlyWindow(time));
    }

    [Fact]
    public async Task An_invalid_prefix_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => TestTables.CreateAsync(prefix: "9-bad"));
    }
}
