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

        var values = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => s.Cache.GetAsync(s.Name).AsTask()));
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
        if (s.Cache.LoadUnderWay(s.Name) is { } refresh) // under load the background read may have finished already
            await refresh;
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
        await Assert.ThrowsAsync<SecretStoreException>(() => s.Cache.LoadUnderWay(s.Name)!); // the entry stays

        Assert.Equal(TimeSpan.Zero, s.Cache.ServedStaleBeyondTimeToLive); // within the TTL: not stale yet
        s.Time.Advance(TimeSpan.FromMinutes(30)); // 34.5 min old: past the TTL, within TTL + MaxStale
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
        Assert.Equal(TimeSpan.FromMinutes(29.5), s.Cache.ServedStaleBeyondTimeToLive); // the cache-staleness gauge

        s.Time.Advance(TimeSpan.FromMinutes(1)); // 35.5 min old: past TTL + MaxStale
        var error = await Assert.ThrowsAsync<SecretStoreException>(() => s.Cache.GetAsync(s.Name).AsTask());
        Assert.True(error.IsTransient);

        await s.Vault.StartAgainAsync();
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
        Assert.Equal(TimeSpan.Zero, s.Cache.ServedStaleBeyondTimeToLive);
    }

    [Fact]
    public async Task A_deleted_secret_is_not_served_stale()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Store.DeleteAsync(s.Name);

        s.Time.Advance(TimeSpan.FromMinutes(6));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => s.Cache.GetAsync(s.Name).AsTask());
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

    [Fact]
    public async Task Reads_in_the_refresh_window_answer_at_once_and_all_join_one_vault_call()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        await s.Store.SetAsync(s.Name, "fake-value-v2");
        var before = s.Vault.RequestCount;

        s.Time.Advance(TimeSpan.FromMinutes(4.5));
        using var slow = s.Vault.Faults.Hold();
        var first = s.Cache.GetAsync(s.Name);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal("fake-value-v1", (await first).Value);
        await slow.Arrived;

        // While the refresh is under way, further reads neither wait nor start anything: no allocation at all.
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
            Assert.True(s.Cache.GetAsync(s.Name).IsCompletedSuccessfully);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Assert.Equal(before + 1, s.Vault.RequestCount);

        // Taken before the release: once released, the load may finish (and stop being "under way") at any moment.
        var refresh = s.Cache.LoadUnderWay(s.Name)!;
        slow.Release();
        await refresh;
        Assert.Equal("fake-value-v2", (await s.Cache.GetAsync(s.Name)).Value);
    }

    [Fact]
    public async Task An_invalidation_during_a_slow_vault_read_is_not_undone_by_that_read()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);

        // A refresh reads v1, and its answer is slow to arrive.
        s.Time.Advance(TimeSpan.FromMinutes(4.5));
        var slow = s.Vault.Faults.Hold();
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
        var refresh = s.Cache.LoadUnderWay(s.Name)!;
        await slow.Arrived;

        // Meanwhile a rotation step writes v2 and invalidates; then the old answer lands.
        s.Vault.SetSecretDirect(s.Name, "fake-value-v2");
        s.Cache.Invalidate(s.Name);
        slow.Release();
        await refresh;

        Assert.Equal("fake-value-v2", (await s.Cache.GetAsync(s.Name)).Value);
    }

    [Fact]
    public async Task A_failing_vault_is_covered_by_the_stale_value_up_to_the_bound_and_not_beyond()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);
        s.Vault.Faults.FailWith(503);

        s.Time.Advance(TimeSpan.FromMinutes(35) - TimeSpan.FromSeconds(1)); // just inside TTL + MaxStale
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);

        s.Time.Advance(TimeSpan.FromSeconds(1)); // exactly at the bound
        var error = await Assert.ThrowsAsync<SecretStoreException>(() => s.Cache.GetAsync(s.Name).AsTask());
        Assert.Equal(503, error.Status);

        s.Vault.Faults.Heal();
        Assert.Equal("fake-value-v1", (await s.Cache.GetAsync(s.Name)).Value);
    }

    [Fact]
    public async Task A_vault_that_hangs_past_the_ttl_holds_a_read_for_the_refresh_window_at_most()
    {
        await using var s = await StartAsync();
        await s.Cache.GetAsync(s.Name);

        s.Time.Advance(TimeSpan.FromMinutes(5));
        using var hang = s.Vault.Faults.Hold();
        var read = s.Cache.GetAsync(s.Name).AsTask();
        await hang.Arrived;
        Assert.False(read.IsCompleted);

        // The vault has not answered for the whole refresh-ahead window (TTL - RefreshAhead): it counts as failing.
        s.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("fake-value-v1", (await read.WaitAsync(TimeSpan.FromSeconds(30))).Value);
        var meanwhile = s.Cache.GetAsync(s.Name); // answered at once while the read still hangs
        Assert.True(meanwhile.IsCompletedSuccessfully);
        Assert.Equal("fake-value-v1", (await meanwhile).Value);
    }
}
