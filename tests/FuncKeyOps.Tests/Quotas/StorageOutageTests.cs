using FuncKeyOps.Quotas;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

public class StorageOutageTests
{
    [Fact]
    public async Task Usage_counted_while_storage_is_down_is_stored_exactly_once_it_is_back()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var tables = await TestTables.CreateAsync(connectionString: azurite.ConnectionString);
        var time = new FakeTimeProvider(Start);
        var capture = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(capture));
        var options = new QuotaOptions();
        var gate = Gate(tables, time, loggers, options);
        var key = Key(rpm: 100, daily: 1_000, monthly: 100_000);
        // The table exists and its client is cached when storage goes away, as in a running app. (No rows yet:
        // a killed Azurite keeps only what it had saved to disk, so rows written just before could vanish.)
        await tables.GetTableAsync(TableNames.Usage);

        await azurite.StopAsync();
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
        gate.RecordUsage(key, Tokens(100));
        gate.RecordUsage(key, Tokens(200));
        gate.RecordUsage(key, Tokens(300));
        Assert.False(await gate.FlushAsync());
        gate.RecordUsage(key, Tokens(450));
        // Budgets still hold on what this instance knows: 1,050 of 1,000.
        Assert.Equal("daily_tokens", (await gate.TryAcquireAsync(key)).Reason);
        // Idle for longer than the timeout, but its usage is not stored yet: the key must not be forgotten.
        time.Advance(options.IdleKeyTimeout + TimeSpan.FromMinutes(1));
        Assert.False(await gate.FlushAsync());
        Assert.Equal(1, gate.TrackedKeyCount);

        await azurite.StartAgainAsync();
        Assert.True(await gate.FlushAsync());

        foreach (var window in new[] { "d20261123", "m202611" })
        {
            var row = await UsageRowAsync(tables, key.Id, window);
            Assert.Equal(1_050, row!.GetInt64("Tokens"));
            Assert.Equal(4, row.GetInt64("Requests"));
        }
        Assert.Equal(1, (await UsageRowAsync(tables, key.Id, "n00"))!.GetInt64("Requests"));
        Assert.Equal(0, gate.TrackedKeyCount); // idle and stored: now it may go
        Assert.Single(capture.Lines, l => l.Contains("flush failed"));
        Assert.Single(capture.Lines, l => l.Contains("flush succeeded again"));
    }
}
