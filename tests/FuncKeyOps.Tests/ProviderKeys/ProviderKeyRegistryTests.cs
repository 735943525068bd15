using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.ProviderKeys;

public class ProviderKeyRegistryTests
{
    private static ProviderKeyConfig Key(string url) => new() { Name = "openai-main", Provider = "openai", BaseUrl = new Uri(url), SecretName = "openai-main" };

    private static readonly TimeSpan Signal = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_snapshot_read_again_ahead_of_expiry_is_served_while_a_background_read_replaces_it()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider();
        var relay = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix), Options.Create(new ProviderKeyOptions()), time);
        var admin = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix), Options.Create(new ProviderKeyOptions()), time);
        await admin.PutAsync(Key("https://one.example/"));
        Assert.Equal("https://one.example/", (await relay.FindDefaultAsync("openai"))!.BaseUrl.ToString());

        await admin.PutAsync(Key("https://two.example/"));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("https://one.example/", (await relay.FindDefaultAsync("openai"))!.BaseUrl.ToString()); // fresh: no read

        time.Advance(TimeSpan.FromSeconds(4)); // 9 s: in the last fifth of the 10 s TTL
        Assert.Equal("https://one.example/", (await relay.FindDefaultAsync("openai"))!.BaseUrl.ToString()); // refreshing
        if (relay.LoadUnderWay is { } load) // under load the background read may have finished already
            await load;
        Assert.Equal("https://two.example/", (await relay.FindDefaultAsync("openai"))!.BaseUrl.ToString());
        Assert.Null(await relay.FindDefaultAsync("gemini"));
    }

    [Fact]
    public async Task Reads_ahead_of_expiry_answer_at_once_and_share_one_storage_read()
    {
        var reads = new StorageReads();
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider();
        var relay = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix, policy: reads), Options.Create(new ProviderKeyOptions()), time);
        var admin = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix), Options.Create(new ProviderKeyOptions()), time);
        await admin.PutAsync(Key("https://one.example/"));

        var cold = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => relay.FindDefaultAsync("openai").AsTask()));
        Assert.All(cold, c => Assert.Equal("https://one.example/", c!.BaseUrl.ToString()));
        Assert.Equal(1, reads.Count);

        await admin.PutAsync(Key("https://two.example/"));
        time.Advance(TimeSpan.FromSeconds(9));
        var held = reads.HoldNext();
        for (var i = 0; i < 20; i++)
        {
            var find = relay.FindDefaultAsync("openai");
            Assert.True(find.IsCompletedSuccessfully);
            Assert.Equal("https://one.example/", (await find)!.BaseUrl.ToString());
        }
        await held.WaitAsync(Signal);
        Assert.Equal(2, reads.Count);
        reads.Release();
        await relay.LoadUnderWay!.WaitAsync(Signal);
        Assert.Equal("https://two.example/", (await relay.FindDefaultAsync("openai"))!.BaseUrl.ToString());
    }

    [Fact]
    public async Task A_write_during_a_slow_read_is_not_undone_by_that_read()
    {
        var reads = new StorageReads();
        var time = new FakeTimeProvider();
        var registry = new ProviderKeyRegistry(await TestTables.CreateAsync(policy: reads), Options.Create(new ProviderKeyOptions()), time);
        await registry.PutAsync(Key("https://one.example/"));
        await registry.FindDefaultAsync("openai");

        // A read of the table sees "one"; its answer is slow to arrive, and a write lands meanwhile.
        time.Advance(TimeSpan.FromSeconds(11));
        var held = reads.HoldNext();
        var during = registry.FindDefaultAsync("openai").AsTask();
        await held.WaitAsync(Signal);
        var slowRead = registry.LoadUnderWay!;
        await registry.PutAsync(Key("https://two.example/"));
        reads.Release();
        await slowRead.WaitAsync(Signal);
        await during.WaitAsync(Signal); // began before the write: either copy is fair

        Assert.Equal("https://two.example/", (await registry.FindDefaultAsync("openai"))!.BaseUrl.ToString());
    }

    [Fact]
    public async Task A_storage_outage_is_covered_by_the_snapshot_up_to_the_bound_and_not_beyond()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var time = new FakeTimeProvider();
        var options = new ProviderKeyOptions();
        var registry = new ProviderKeyRegistry(await TestTables.CreateAsync(connectionString: azurite.ConnectionString), Options.Create(options), time);
        await registry.PutAsync(Key("https://one.example/"));
        await registry.FindDefaultAsync("openai");
        await azurite.StopAsync();

        time.Advance(options.StalenessBound - TimeSpan.FromSeconds(1)); // 10 s TTL + 30 min MaxStale, less a second
        Assert.Equal("https://one.example/", (await registry.FindDefaultAsync("openai"))!.BaseUrl.ToString());

        time.Advance(TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAnyAsync<Exception>(async () => await registry.FindDefaultAsync("openai"));
        Assert.True(StorageReadFailure.Is(error), error.ToString());
    }

    [Fact]
    public async Task Hanging_storage_holds_a_read_for_the_refresh_window_at_most_and_the_snapshot_only_up_to_the_bound()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var time = new FakeTimeProvider();
        var registry = new ProviderKeyRegistry(await TestTables.CreateAsync(connectionString: azurite.ConnectionString), Options.Create(new ProviderKeyOptions()), time);
        await registry.PutAsync(Key("https://one.example/"));
        await registry.FindDefaultAsync("openai");

        azurite.Pause();
        time.Advance(TimeSpan.FromSeconds(10)); // the TTL, and no read ahead of it (no traffic)
        var waiting = registry.FindDefaultAsync("openai").AsTask();
        time.Advance(TimeSpan.FromSeconds(2)); // the read has hung for the whole refresh-ahead window (TTL / 5)
        Assert.Equal("https://one.example/", (await waiting.WaitAsync(Signal))!.BaseUrl.ToString());

        // Past the bound the old snapshot is not served: the call waits for storage.
        time.Advance(TimeSpan.FromMinutes(30));
        var beyond = registry.FindDefaultAsync("openai").AsTask();
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(beyond.IsCompleted);
        azurite.Resume();
        Assert.Equal("https://one.example/", (await beyond.WaitAsync(TimeSpan.FromSeconds(90)))!.BaseUrl.ToString());
    }

    [Fact]
    public async Task A_read_whose_snapshot_runs_past_the_bound_while_storage_hangs_waits_for_storage_rather_than_fail()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var time = new FakeTimeProvider();
        var options = new ProviderKeyOptions();
        var registry = new ProviderKeyRegistry(await TestTables.CreateAsync(connectionString: azurite.ConnectionString), Options.Create(options), time);
        await registry.PutAsync(Key("https://one.example/"));
        await registry.FindDefaultAsync("openai");

        azurite.Pause();
        time.Advance(options.StalenessBound - TimeSpan.FromSeconds(1)); // past the TTL, the snapshot still within its bound
        var waiting = registry.FindDefaultAsync("openai").AsTask();
        time.Advance(TimeSpan.FromSeconds(2)); // the read hangs for the refresh-ahead window, by when the snapshot is past its bound
        azurite.Resume();
        Assert.Equal("https://one.example/", (await waiting.WaitAsync(TimeSpan.FromSeconds(90)))!.BaseUrl.ToString());
    }
}
