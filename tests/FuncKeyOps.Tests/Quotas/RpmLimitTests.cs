using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

public class RpmLimitTests
{
    [Fact]
    public async Task Rpm_3_admits_three_then_refuses_until_the_minute_ends()
    {
        var time = new FakeTimeProvider(Start.AddSeconds(20));
        var gate = Gate(await TestTables.CreateAsync(), time);
        var key = Key(rpm: 3);

        for (var i = 0; i < 3; i++)
            Assert.True((await gate.TryAcquireAsync(key)).Allowed);
        var refused = await gate.TryAcquireAsync(key);

        Assert.False(refused.Allowed);
        Assert.Equal("rpm", refused.Reason);
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(60));
        Assert.Equal(TimeSpan.FromSeconds(40), refused.RetryAfter); // the fixed window ends at 08:01:00

        time.Advance(TimeSpan.FromSeconds(39));
        Assert.False((await gate.TryAcquireAsync(key)).Allowed);
        time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
            Assert.True((await gate.TryAcquireAsync(key)).Allowed);
        Assert.False((await gate.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_full_minute_later_the_key_is_allowed_again()
    {
        var time = new FakeTimeProvider(Start);
        var gate = Gate(await TestTables.CreateAsync(), time);
        var key = Key(rpm: 3);
        for (var i = 0; i < 4; i++)
            await gate.TryAcquireAsync(key);
        Assert.Equal(TimeSpan.FromSeconds(60), (await gate.TryAcquireAsync(key)).RetryAfter);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task Keys_are_independent()
    {
        var gate = Gate(await TestTables.CreateAsync(), new FakeTimeProvider(Start));
        var a = Key("key-a", rpm: 1);
        var b = Key("key-b", rpm: 1);

        Assert.True((await gate.TryAcquireAsync(a)).Allowed);
        Assert.False((await gate.TryAcquireAsync(a)).Allowed);
        Assert.True((await gate.TryAcquireAsync(b)).Allowed);
        Assert.False((await gate.TryAcquireAsync(b)).Allowed);
    }

    [Fact]
    public async Task An_unlimited_key_is_never_refused_and_its_usage_is_still_counted()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var gate = Gate(tables, time);
        var key = Key();

        for (var i = 0; i < 1000; i++)
            Assert.Same(FuncKeyOps.Quotas.QuotaDecision.Allow, await gate.TryAcquireAsync(key));
        gate.RecordUsage(key, Tokens(5_000_000_000));
        Assert.True(await gate.FlushAsync());

        Assert.True((await gate.TryAcquireAsync(key)).Allowed);
        Assert.Equal(5_000_000_000, await StoredTokensAsync(tables, key.Id, "d20261123"));
    }

    [Fact]
    public async Task Concurrent_requests_get_exactly_the_rpm()
    {
        var gate = Gate(await TestTables.CreateAsync(), new FakeTimeProvider(Start));
        var key = Key(rpm: 50);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(async () => await gate.TryAcquireAsync(key))));

        Assert.Equal(50, decisions.Count(d => d.Allowed));
    }
}
