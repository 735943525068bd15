using FuncKeyOps.Quotas;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

/// <summary>Several gates on one table prefix stand for several instances of the app.</summary>
public class SharedUsageTests
{
    [Fact]
    public async Task A_minute_row_is_reused_an_hour_later_and_a_late_flush_of_the_older_minute_leaves_it_alone()
    {
        var prefix = TestNames.NewTablePrefix();
        var late = new FakeTimeProvider(Start.AddSeconds(30));
        var time = new FakeTimeProvider(Start.AddSeconds(30));
        var a = Gate(await TestTables.CreateAsync(prefix), time);
        var b = Gate(await TestTables.CreateAsync(prefix), late);
        var tables = await TestTables.CreateAsync(prefix);
        var key = Key(rpm: 10);

        for (var i = 0; i < 3; i++)
            Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True(await a.FlushAsync());
        Assert.True((await b.TryAcquireAsync(key)).Allowed); // b's request of 08:00, not flushed yet

        time.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 2; i++)
            Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True(await a.FlushAsync());
        var row = await UsageRowAsync(tables, key.Id, "n00");
        Assert.Equal((2L, "202611230900"), (row!.GetInt64("Requests"), row.GetString("Window")));

        Assert.True(await b.FlushAsync()); // 08:00 is over: its count must not replace 09:00's
        row = await UsageRowAsync(tables, key.Id, "n00");
        Assert.Equal((2L, "202611230900"), (row!.GetInt64("Requests"), row.GetString("Window")));
        Assert.Null(await UsageRowAsync(tables, key.Id, "n202611230800"));
    }

    [Fact]
    public async Task Concurrent_flushes_of_several_instances_lose_and_double_count_nothing()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        var gates = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ => Gate(await TestTables.CreateAsync(prefix), time)));
        var key = Key(daily: long.MaxValue, monthly: long.MaxValue);
        var random = new Random(20261123);
        long expectedTokens = 0, expectedRequests = 0;

        for (var round = 0; round < 25; round++)
        {
            var amounts = gates.Select(_ => (long)random.Next(1, 10_000)).ToArray();
            await Task.WhenAll(gates.Select((gate, i) => Task.Run(async () =>
            {
                gate.RecordUsage(key, Tokens(amounts[i]));
                var flush = gate.FlushAsync();
                gate.RecordUsage(key, Tokens(1)); // lands during the flush: stays pending or rides along, never twice
                await flush;
            })));
            expectedTokens += amounts.Sum() + gates.Length;
            expectedRequests += 2 * gates.Length;
        }
        foreach (var gate in gates)
            Assert.True(await gate.FlushAsync());

        var tables = await TestTables.CreateAsync(prefix);
        foreach (var window in new[] { "d20261123", "m202611" })
        {
            var row = await UsageRowAsync(tables, key.Id, window);
            Assert.Equal(expectedTokens, row!.GetInt64("Tokens"));
            Assert.Equal(expectedRequests, row.GetInt64("Requests"));
        }
        Assert.True(gates.Sum(g => g.MergeConflicts) > 0, "the flushes never raced on a row; the test proved nothing");
    }

    [Fact]
    public async Task Other_instances_requests_lower_the_rpm_left_for_the_rest_of_the_minute()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start.AddSeconds(5));
        var a = Gate(await TestTables.CreateAsync(prefix), time);
        var b = Gate(await TestTables.CreateAsync(prefix), time);
        var key = Key(rpm: 10);

        for (var i = 0; i < 6; i++)
            Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True(await a.FlushAsync());
        Assert.True((await b.TryAcquireAsync(key)).Allowed); // b has not read a's 6 yet
        Assert.True(await b.FlushAsync());                    // now it has: 10 - 6 - 1 = 3 left

        for (var i = 0; i < 3; i++)
            Assert.True((await b.TryAcquireAsync(key)).Allowed);
        var refused = await b.TryAcquireAsync(key);
        Assert.Equal("rpm", refused.Reason);
        Assert.Equal(TimeSpan.FromSeconds(55), refused.RetryAfter);

        Assert.True(await b.FlushAsync());
        Assert.True(await a.FlushAsync()); // a learns of b's 4: 10 - 6 - 4 = 0 left
        Assert.Equal("rpm", (await a.TryAcquireAsync(key)).Reason);
        var tables = await TestTables.CreateAsync(prefix);
        var minute = await UsageRowAsync(tables, key.Id, "n00");
        Assert.Equal((10, "202611230800"), (minute!.GetInt64("Requests"), minute.GetString("Window")));

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await a.TryAcquireAsync(key)).Allowed);
        Assert.True((await b.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_write_whose_response_was_lost_is_not_counted_twice()
    {
        var prefix = TestNames.NewTablePrefix();
        var losing = new ResponseLosingPolicy(prefix + "usage") { Mode = ResponseLosingPolicy.Lose.FirstAttempt };
        var gate = Gate(await ResponseLosingPolicy.TablesAsync(prefix, losing), new FakeTimeProvider(Start));
        var key = Key(daily: 10_000);

        gate.RecordUsage(key, Tokens(100));
        Assert.True(await gate.FlushAsync()); // inserts landed; the SDK's retries got 409
        gate.RecordUsage(key, Tokens(50));
        Assert.True(await gate.FlushAsync()); // replaces landed; the SDK's retries got 412

        Assert.Equal(4, losing.LostCount);
        var tables = await TestTables.CreateAsync(prefix);
        Assert.Equal(150, await StoredTokensAsync(tables, key.Id, "d20261123"));
        Assert.Equal(150, await StoredTokensAsync(tables, key.Id, "m202611"));
    }

    [Fact]
    public async Task A_flush_that_failed_after_its_write_landed_is_confirmed_by_the_next_one()
    {
        var prefix = TestNames.NewTablePrefix();
        var losing = new ResponseLosingPolicy(prefix + "usage") { Mode = ResponseLosingPolicy.Lose.Every };
        var gate = Gate(await ResponseLosingPolicy.TablesAsync(prefix, losing), new FakeTimeProvider(Start));
        var tables = await TestTables.CreateAsync(prefix);
        var key = Key(daily: 108);

        gate.RecordUsage(key, Tokens(100));
        Assert.False(await gate.FlushAsync());
        Assert.True(losing.LostCount > 0);
        Assert.Equal(100, await StoredTokensAsync(tables, key.Id, "d20261123")); // it did land

        gate.RecordUsage(key, Tokens(7));
        losing.Mode = ResponseLosingPolicy.Lose.None;
        Assert.True(await gate.FlushAsync());

        Assert.Equal(107, await StoredTokensAsync(tables, key.Id, "d20261123"));
        Assert.Equal(107, await StoredTokensAsync(tables, key.Id, "m202611"));
        Assert.Equal(2, (await UsageRowAsync(tables, key.Id, "d20261123"))!.GetInt64("Requests"));
        // Nor counted twice in memory: 107 of 108 leaves room for one more call.
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
    }
}
