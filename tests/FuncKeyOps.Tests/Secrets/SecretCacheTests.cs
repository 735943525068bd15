using FuncKeyOps.Logging;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Secrets;

public class SecretCacheTests
{
    private static readonly SecretCacheOptions Options = new()
    {
        RefreshAhead = TimeSpan.FromMinutes(4),
        TimeToLive = TimeSpan.FromMinutes(5),
        MaxStale = TimeSpan.FromMinutes(30),
    };

    private sealed record Setup(TestVault Vault, KeyVaultSecretStore Store, SecretCache Cache, FakeTimeProvider Time, string Name) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Vault.DisposeAsync();
    }

    private static async Task<Setup> StartAsync()
    {
        var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
        var cache = new SecretCache(store, Microsoft.Extensions.Options.Options.Create(Options), time, NullLogger<SecretCache>.Instance);
        var name = TestNames.NewSecretName("cached");
        await store.SetAsync(name, "fake-value-v1");
        return new Setup(vault, store, cache, time, name);
    }

    [Fact]
    public async Task Fresh_values_come_from_memory_and_concurrent_misses_share_one_vault_call()
    {
        await using var s = await StartAsync();
        var before = s.Vault.RequestCount;

        var values = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => s.Cache.GetAsync(s.Name)));
        Assert.All(values, v => Assert.Equal("fake-value-v1", v.Value));
        Assert.Equal(before + 1, s.Vault.RequestCount);

        s.Time.Advance(TimeSpan.FromMinutes(3));
        await s.Cache.GetAsync(s.Name);
        Assert.Equal(before + 1, s.Vault.RequestCount);
    }

    [Fact]
    public async Task Values_are_refreshed_ahead_of_expiry_in_the_background()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Store.SetAsync(s.Name, "fake-value-v2");

        s.Time.Advance(TimeSpan.FromMinutes(4.5));
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
        await s.Cache.LastBackgroundRefresh;
        Assert.Equal("fake-value-v2", (await s.Cache.GetAsync(s.Name)).Value);
    }

    [Fact]
    public async Task A_stopped_vault_is_covered_by_the_stale_value_for_the_bounded_time_only()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Vault.StopAsync();

        s.Time.Advance(TimeSpan.FromMinutes(4.5));
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
        await s.Cache.LastBackgroundRefresh; // fails quietly; the entry stays

        s.Time.Advance(TimeSpan.FromMinutes(30)); // 34.5 min old: past the TTL, within TTL + MaxStale
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);

        s.Time.Advance(TimeSpan.FromMinutes(1)); // 35.5 min old: past TTL + MaxStale
        var error = await Assert.ThrowsAsync<SecretStoreException>(() => s.Cache.GetAsync(s.Name));
        Assert.True(error.IsTransient);

        await s.Vault.StartAgainAsync();
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
    }

    [Fact]
    public async Task A_deleted_secret_is_not_served_stale()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Store.DeleteAsync(s.Name);

        s.Time.Advance(TimeSpan.FromMinutes(6));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => s.Cache.GetAsync(s.Name));
    }

    [Fact]
    public async Task Invalidate_forces_the_next_read_to_the_vault()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Store.SetAsync(s.Name, "fake-value-v2");
        s.Cache.Invalidate(s.Name);
        Assert.Equal("fake-value-v2", (await s.Cache.GetAsync(s.Name)).Value);
    }
}
