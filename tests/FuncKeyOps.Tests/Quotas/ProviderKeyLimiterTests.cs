using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.Routing;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

/// <summary>
/// Provider-key ceilings through the registered <see cref="IProviderKeyLimiter"/>; two service providers on one
/// table prefix stand for two instances of the app.
/// </summary>
public class ProviderKeyLimiterTests(ITestOutputHelper output)
{
    private sealed class Instance : IDisposable
    {
        private readonly ServiceProvider _services;

        public Instance(TableStore tables, TimeProvider time)
        {
            var configuration = new ConfigurationBuilder().Build();
            var services = new ServiceCollection().AddLogging().AddSingleton(tables).AddSingleton(time);
            services.AddQuotas(configuration).AddProviderRouting(configuration);
            _services = services.BuildServiceProvider();
        }

        public IProviderKeyLimiter Limiter => _services.GetRequiredService<IProviderKeyLimiter>();

        public QuotaGate Gate => _services.GetRequiredService<QuotaGate>();

        public void Dispose() => _services.Dispose();
    }

    private static ProviderKeyConfig ProviderKey(int? rpm = null, long? tpm = null) => new()
    {
        Name = "openai-" + Guid.NewGuid().ToString("N")[..8],
        Provider = ProviderNames.OpenAI,
        BaseUrl = new Uri("https://api.openai.example/"),
        SecretName = "openai-limits",
        Rpm = rpm,
        Tpm = tpm,
    };

    [Fact]
    public async Task Two_instances_sharing_a_60_rpm_key_admit_at_most_the_ceiling_plus_the_documented_overshoot()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        using var a = new Instance(await TestTables.CreateAsync(prefix), time);
        using var b = new Instance(await TestTables.CreateAsync(prefix), time);
        var instances = new[] { a, b };
        var key = ProviderKey(rpm: 60);
        var flushInterval = new QuotaOptions().FlushInterval;
        var admittedBy = new int[2];

        // 100 calls in 50 s, alternating between the instances (one call per second each); both flush every F = 2 s.
        for (var i = 0; i < 100; i++)
        {
            if ((await instances[i % 2].Limiter.TryAcquireAsync(key)).Allowed)
                admittedBy[i % 2]++;
            time.Advance(TimeSpan.FromMilliseconds(500));
            if (time.GetUtcNow().Ticks % flushInterval.Ticks == 0)
            {
                Assert.True(await a.Gate.FlushAsync());
                Assert.True(await b.Gate.FlushAsync());
            }
        }

        // docs/quotas.md: at most RPM + (N - 1) x A, A = the most one instance admits within 2F (here 4: one a second).
        var admitted = admittedBy.Sum();
        output.WriteLine($"admitted {admitted} of 100 (instance a {admittedBy[0]}, b {admittedBy[1]})");
        Assert.InRange(admitted, 60, 60 + (2 - 1) * 4);
        Assert.True(admittedBy.All(n => n > 0));
        var refused = await a.Limiter.TryAcquireAsync(key);
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(10), refused.RetryAfter); // 08:00:50: until the minute ends

        var tables = await TestTables.CreateAsync(prefix);
        var minute = await UsageRowAsync(tables, "pk:" + key.Name, "n00");
        Assert.Equal((admitted, "202611230800"), ((int)minute!.GetInt64("Requests")!, minute.GetString("Window")));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True((await a.Limiter.TryAcquireAsync(key)).Allowed);
        Assert.True((await b.Limiter.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_tpm_ceiling_refuses_once_the_tokens_recorded_reach_it_on_every_instance()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start.AddSeconds(15));
        using var a = new Instance(await TestTables.CreateAsync(prefix), time);
        using var b = new Instance(await TestTables.CreateAsync(prefix), time);
        var key = ProviderKey(tpm: 1_000);

        Assert.True((await a.Limiter.TryAcquireAsync(key)).Allowed);
        a.Limiter.RecordUsage(key, new TokenUsage(500, 100));
        Assert.True((await a.Limiter.TryAcquireAsync(key)).Allowed); // 600 of 1,000
        a.Limiter.RecordUsage(key, new TokenUsage(300, 100));

        var refused = await a.Limiter.TryAcquireAsync(key); // 1,000 of 1,000: the instance that recorded it knows at once
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(45), refused.RetryAfter);

        Assert.True((await b.Limiter.TryAcquireAsync(key)).Allowed); // b has not heard yet
        Assert.True(await a.Gate.FlushAsync());
        Assert.True(await b.Gate.FlushAsync());
        Assert.False((await b.Limiter.TryAcquireAsync(key)).Allowed);
        var tables = await TestTables.CreateAsync(prefix);
        Assert.Equal(1_000, await StoredTokensAsync(tables, "pk:" + key.Name, "n00"));

        time.Advance(TimeSpan.FromSeconds(45));
        Assert.True((await a.Limiter.TryAcquireAsync(key)).Allowed);
        Assert.True((await b.Limiter.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_key_with_both_ceilings_is_refused_by_whichever_is_reached()
    {
        var time = new FakeTimeProvider(Start);
        using var instance = new Instance(await TestTables.CreateAsync(), time);
        var key = ProviderKey(rpm: 2, tpm: 1_000_000);

        Assert.True((await instance.Limiter.TryAcquireAsync(key)).Allowed);
        Assert.True((await instance.Limiter.TryAcquireAsync(key)).Allowed);
        Assert.False((await instance.Limiter.TryAcquireAsync(key)).Allowed);
    }

    [Fact]
    public async Task A_key_without_ceilings_is_always_allowed_and_nothing_is_tracked_for_it()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider(Start);
        using var instance = new Instance(await TestTables.CreateAsync(prefix), time);
        var key = ProviderKey();

        for (var i = 0; i < 1_000; i++)
        {
            Assert.Equal(ProviderKeyLimitDecision.Allow, await instance.Limiter.TryAcquireAsync(key));
            instance.Limiter.RecordUsage(key, new TokenUsage(1_000_000, 1_000_000));
        }
        Assert.True(await instance.Gate.FlushAsync());

        Assert.Equal(0, instance.Gate.TrackedKeyCount);
        Assert.Null(await UsageRowAsync(await TestTables.CreateAsync(prefix), "pk:" + key.Name, "n00"));
    }
}
