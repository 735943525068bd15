using Azure.Data.Tables;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

public class BudgetWarningTests
{
    private const string WarningText = "80 % warning";

    [Fact]
    public async Task The_80_percent_warning_is_recorded_once_per_day_across_racing_instances()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        var capture = new CapturingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(capture));
        var a = Gate(await TestTables.CreateAsync(prefix), time, loggers);
        var b = Gate(await TestTables.CreateAsync(prefix), time, loggers);
        // A third instance serving the key under an older record without the budget: it adds usage, warns about nothing.
        var other = Gate(await TestTables.CreateAsync(prefix), time, loggers);
        var tables = await TestTables.CreateAsync(prefix);
        var key = Key(daily: 1_000);
        await a.TryAcquireAsync(key);
        await b.TryAcquireAsync(key);

        other.RecordUsage(key with { DailyTokens = null }, Tokens(799));
        Assert.True(await other.FlushAsync());
        await Task.WhenAll(a.FlushAsync(), b.FlushAsync());
        Assert.Empty(await AnomalyRowsAsync(tables)); // 79.9 %

        other.RecordUsage(key with { DailyTokens = null }, Tokens(101));
        Assert.True(await other.FlushAsync());
        // Both see 900 of 1,000 in the same round and both try to record it.
        await Task.WhenAll(a.FlushAsync(), b.FlushAsync());

        var finding = Assert.Single(await AnomalyRowsAsync(tables));
        Assert.Equal("20261123", finding.PartitionKey);
        Assert.Equal("budget80-key1-d20261123", finding.RowKey);
        Assert.Equal("budget80", finding.GetString("Detector"));
        Assert.Equal("key1", finding.GetString("Subject"));
        Assert.Equal("d20261123", finding.GetString("Window"));
        Assert.Equal(900, finding.GetInt64("Observed"));
        Assert.Equal(1_000, finding.GetInt64("Budget"));
        Assert.Equal("warning", finding.GetString("Severity"));
        Assert.Equal(Start, finding.GetDateTimeOffset("Time"));
        Assert.Single(capture.Lines, l => l.Contains(WarningText));

        a.RecordUsage(key, Tokens(50));
        for (var i = 0; i < 2; i++)
            await Task.WhenAll(a.FlushAsync(), b.FlushAsync());
        Assert.Single(await AnomalyRowsAsync(tables));
        Assert.Single(capture.Lines, l => l.Contains(WarningText));

        time.Advance(TimeSpan.FromDays(1));
        await a.TryAcquireAsync(key);
        await b.TryAcquireAsync(key);
        other.RecordUsage(key with { DailyTokens = null }, Tokens(850));
        Assert.True(await other.FlushAsync());
        await Task.WhenAll(a.FlushAsync(), b.FlushAsync());

        var findings = await AnomalyRowsAsync(tables);
        Assert.Equal(2, findings.Count);
        Assert.Contains(findings, f => f.PartitionKey == "20261124" && f.RowKey == "budget80-key1-d20261124");
        Assert.Equal(2, capture.Lines.Count(l => l.Contains(WarningText)));
    }

    [Fact]
    public async Task A_monthly_warning_is_not_repeated_by_an_instance_that_first_sees_it_on_a_later_day()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        var tables = await TestTables.CreateAsync(prefix);
        var key = Key(monthly: 1_000);
        var a = Gate(await TestTables.CreateAsync(prefix), time);
        a.RecordUsage(key, Tokens(850));
        Assert.True(await a.FlushAsync());
        Assert.Equal("20261123", Assert.Single(await AnomalyRowsAsync(tables)).PartitionKey);

        time.Advance(TimeSpan.FromDays(2));
        var started = Gate(await TestTables.CreateAsync(prefix), time); // knows nothing of what a recorded
        await started.TryAcquireAsync(key);
        Assert.True(await started.FlushAsync());

        var finding = Assert.Single(await AnomalyRowsAsync(tables));
        Assert.Equal("budget80-key1-m202611", finding.RowKey);
        Assert.Equal("20261123", finding.PartitionKey);
    }

    [Fact]
    public async Task Below_80_percent_nothing_is_recorded()
    {
        var tables = await TestTables.CreateAsync();
        var gate = Gate(tables, new FakeTimeProvider(Start));
        var key = Key(daily: 1_000, monthly: 10_000);
        gate.RecordUsage(key, Tokens(799));
        Assert.True(await gate.FlushAsync());

        Assert.Empty(await AnomalyRowsAsync(tables));
        gate.RecordUsage(key, Tokens(1));
        Assert.True(await gate.FlushAsync());
        Assert.Equal("budget80-key1-d20261123", Assert.Single(await AnomalyRowsAsync(tables)).RowKey);
    }
}
