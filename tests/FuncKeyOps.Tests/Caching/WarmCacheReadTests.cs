using System.Diagnostics;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.RelayKeys;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Caching;

/// <summary>Every relay call reads all three caches: once warm, a read must neither wait nor allocate.</summary>
public class WarmCacheReadTests(ITestOutputHelper output)
{
    private const int Reads = 10_000;
    private const int Rounds = 5;

    [Fact]
    public async Task Warm_reads_of_relay_key_rows_secrets_and_the_provider_key_registry_allocate_nothing()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (created, _) = await app.Keys.CreateAsync(new RelayKeySpec { Tenant = "contoso", Name = "warm", Providers = ["openai"] });
        var secrets = app.Services.GetRequiredService<SecretCache>();
        var registry = app.Services.GetRequiredService<ProviderKeyRegistry>();
        await registry.PutAsync(new ProviderKeyConfig { Name = "openai-main", Provider = "openai", BaseUrl = new Uri("https://one.example/"), SecretName = "openai-main" });
        Assert.NotNull(await app.Cache.GetAsync(created.Id, default));
        await secrets.GetAsync(app.PepperSecretName);
        Assert.NotNull(await registry.FindDefaultAsync("openai"));

        Measure("relay-key row", () => app.Cache.GetAsync(created.Id, default).IsCompletedSuccessfully);
        Measure("secret", () => secrets.GetAsync(app.PepperSecretName).IsCompletedSuccessfully);
        Measure("provider-key registry", () => registry.FindDefaultAsync("openai").IsCompletedSuccessfully);
    }

    private void Measure(string cache, Func<bool> read)
    {
        for (var i = 0; i < 100; i++)
            Assert.True(read());
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var best = TimeSpan.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < Reads; i++)
                read();
            var elapsed = Stopwatch.GetElapsedTime(started);
            best = elapsed < best ? elapsed : best;
        }
        var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
        // For the record only (the machine is shared): the best round's time per read.
        output.WriteLine($"{cache}: {best.TotalNanoseconds / Reads:F0} ns and {(double)bytes / (Reads * Rounds):F1} bytes per warm read");
        Assert.Equal(0, bytes);
    }
}
