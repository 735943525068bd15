using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

public class TokenBudgetTests
{
    [Fact]
    public async Task A_daily_budget_refuses_until_utc_midnight_once_used_up()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var gate = Gate(tables, time);
        var key = Key(daily: 1_000);

        gate.RecordUsage(key, Tokens(600));
        Assert.True(await gate.FlushAsync());
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);

        gate.RecordUsage(key, Tokens(500));
        // Counted locally at once, before any flush.
        Assert.Equal("daily_tokens", (await gate.TryAcquireAsync(key)).Reason);
        Assert.True(await gate.FlushAsync());

        var refused = await gate.TryAcquireAsync(key);
        Assert.False(refused.Allowed);
        Assert.Equal("daily_tokens", refused.Reason);
        Assert.Equal(TimeSpan.FromHours(16), refused.RetryAfter);
        var row = await UsageRowAsync(tables, key.Id, "d20261123");
        Assert.Equal(1_100, row!.GetInt64("Tokens"));
        Assert.Equal(2, row.GetInt64("Requests"));

        time.Advance(TimeSpan.FromHours(16) - TimeSpan.FromTicks(1));
        Assert.Equal(TimeSpan.FromTicks(1), (await gate.TryAcquireAsync(key)).RetryAfter);
        time.Advance(TimeSpan.FromTicks(1));
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_monthly_budget_refuses_until_the_month_starts_again()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var gate = Gate(tables, time);
        var key = Key(monthly: 1_000);

        gate.RecordUsage(key, Tokens(600));
        Assert.True(await gate.FlushAsync());
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);

        time.Advance(TimeSpan.FromDays(2)); // a new day does not reset a monthly budget
        gate.RecordUsage(key, Tokens(500));
        Assert.True(await gate.FlushAsync());

        var refused = await gate.TryAcquireAsync(key);
        Assert.False(refused.Allowed);
        Assert.Equal("monthly_tokens", refused.Reason);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero) - time.GetUtcNow(), refused.RetryAfter);
        Assert.Equal(1_100, await StoredTokensAsync(tables, key.Id, "m202611"));

        time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task The_longest_refusal_wins_when_several_limits_are_reached()
    {
        var gate = Gate(await TestTables.CreateAsync(), new FakeTimeProvider(Start));
        var key = Key(rpm: 1, daily: 100, monthly: 100);
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
        gate.RecordUsage(key, Tokens(100));

        var refused = await gate.TryAcquireAsync(key);

        Assert.Equal("monthly_tokens", refused.Reason);
    }

    [Fact]
    public async Task Another_instance_refuses_once_its_flush_reads_the_shared_total()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        var a = Gate(await TestTables.CreateAsync(prefix), time);
        var b = Gate(await TestTables.CreateAsync(prefix), time);
        var key = Key(daily: 1_000);
        Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True((await b.TryAcquireAsync(key)).Allowed);

        a.RecordUsage(key, Tokens(600));
        b.RecordUsage(key, Tokens(500));
        Assert.True(await a.FlushAsync());
        Assert.True(await b.FlushAsync());

        Assert.Equal("daily_tokens", (await b.TryAcquireAsync(key)).Reason);
        // The documented lag: a has not read b's usage yet.
        Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True(await a.FlushAsync());
        Assert.Equal("daily_tokens", (await a.TryAcquireAsync(key)).Reason);
    }

    [Fact]
    public async Task An_instance_that_never_served_the_key_learns_the_total_at_its_first_flush()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        var a = Gate(await TestTables.CreateAsync(prefix), time);
        var b = Gate(await TestTables.CreateAsync(prefix), time);
        var key = Key(daily: 1_000);
        a.RecordUsage(key, Tokens(1_000));
        Assert.True(await a.FlushAsync());

        Assert.True((await b.TryAcquireAsync(key)).Allowed);
        Assert.True(await b.FlushAsync());
        Assert.Equal("daily_tokens", (await b.TryAcquireAsync(key)).Reason);
    }
}
