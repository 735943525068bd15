using FuncKeyOps.Quotas;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.Quotas.QuotaTestKit;

namespace FuncKeyOps.Tests.Quotas;

public class UsageFlusherTests
{
    [Fact]
    public async Task The_flusher_stores_usage_every_interval_and_on_stop()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var gate = Gate(tables, time);
        using var flusher = new UsageFlusher(gate, Options.Create(new QuotaOptions { FlushInterval = TimeSpan.FromSeconds(5) }), time);
        await flusher.StartAsync(CancellationToken.None);
        var key = Key();

        gate.RecordUsage(key, Tokens(100));
        var flushed = gate.NextFlushCompleted;
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(flushed.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await flushed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(100, await StoredTokensAsync(tables, key.Id, "d20261123"));

        gate.RecordUsage(key, Tokens(50));
        await flusher.StopAsync(CancellationToken.None);
        Assert.Equal(150, await StoredTokensAsync(tables, key.Id, "d20261123"));
    }

    [Fact]
    public async Task AddQuotas_registers_one_gate_its_flusher_and_the_options()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Quotas:FlushInterval"] = "00:00:05" })
            .Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(await TestTables.CreateAsync());
        services.AddQuotas(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<QuotaGate>(), provider.GetRequiredService<IQuotaGate>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<UsageFlusher>());
        Assert.Equal(TimeSpan.FromSeconds(5), provider.GetRequiredService<IOptions<QuotaOptions>>().Value.FlushInterval);
    }

    [Fact]
    public async Task A_non_positive_flush_interval_is_refused()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Quotas:FlushInterval"] = "00:00:00" })
            .Build();
        var services = new ServiceCollection().AddLogging().AddSingleton(await TestTables.CreateAsync());
        services.AddQuotas(configuration);
        using var provider = services.BuildServiceProvider();

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<QuotaOptions>>().Value);
    }
}
