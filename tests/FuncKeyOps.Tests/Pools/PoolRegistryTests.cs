using FuncKeyOps.Pools;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Pools;

/// <summary>The pools table on Azurite: written whole, read by the relay from a snapshot with the registry's bound.</summary>
public class PoolRegistryTests
{
    private static ProviderKeyPool Pool(string firstMember) => new()
    {
        Name = "regions",
        Provider = "azure-openai",
        Mode = PoolMode.Weighted,
        Members =
        [
            new PoolMember { KeyName = firstMember, Weight = 3, Deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-east", ["gpt-4o"] = "4o-east" } },
            new PoolMember { KeyName = "az-west", Weight = 1 },
        ],
    };

    private static async Task<(PoolRegistry Relay, PoolRegistry Admin, FakeTimeProvider Time)> TwoInstancesAsync()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider();
        var options = Options.Create(new ProviderKeyOptions());
        return (new PoolRegistry(await TestTables.CreateAsync(prefix), options, time), new PoolRegistry(await TestTables.CreateAsync(prefix), options, time), time);
    }

    [Fact]
    public async Task A_pool_round_trips_whole_and_the_same_pool_again_writes_nothing()
    {
        var (_, registry, _) = await TwoInstancesAsync();
        Assert.Equal((true, true), await registry.PutAsync(Pool("az-east")));

        var stored = await registry.GetAsync("regions");
        Assert.NotNull(stored);
        Assert.Equal(("azure-openai", PoolMode.Weighted), (stored.Provider, stored.Mode));
        Assert.Equal(["az-east", "az-west"], stored.Members.Select(m => m.KeyName));
        Assert.Equal([3, 1], stored.Members.Select(m => m.Weight));
        Assert.Equal("mini-east", stored.Members[0].Deployments["gpt-4o-mini"]);
        Assert.Equal("4o-east", stored.Members[0].Deployments["gpt-4o"]);
        Assert.Empty(stored.Members[1].Deployments);

        // The deployments in another order are the same pool.
        var reordered = Pool("az-east");
        reordered = reordered with { Members = [reordered.Members[0] with { Deployments = new Dictionary<string, string> { ["gpt-4o"] = "4o-east", ["gpt-4o-mini"] = "mini-east" } }, reordered.Members[1]] };
        Assert.Equal((false, false), await registry.PutAsync(reordered));
        Assert.Equal((false, true), await registry.PutAsync(Pool("az-north")));
        Assert.Equal("az-north", (await registry.GetAsync("regions"))!.Members[0].KeyName);

        Assert.True(await registry.DeleteAsync("regions"));
        Assert.False(await registry.DeleteAsync("regions"));
        Assert.Null(await registry.GetAsync("regions"));
    }

    [Fact]
    public async Task Another_instance_sees_a_pool_change_within_the_cache_ttl_and_the_writing_instance_at_once()
    {
        var (relay, admin, time) = await TwoInstancesAsync();
        await admin.PutAsync(Pool("az-east"));
        Assert.Equal("az-east", (await relay.FindAsync("regions"))!.Members[0].KeyName);
        Assert.Null(await relay.FindAsync("other"));

        await admin.PutAsync(Pool("az-north"));
        Assert.Equal("az-north", (await admin.FindAsync("regions"))!.Members[0].KeyName); // its own write: at once
        time.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal("az-east", (await relay.FindAsync("regions"))!.Members[0].KeyName); // fresh: no read

        time.Advance(TimeSpan.FromSeconds(4)); // 11 s: past ProviderKeys:CacheTtl (10 s), the read waits for storage
        Assert.Equal("az-north", (await relay.FindAsync("regions"))!.Members[0].KeyName);

        await admin.DeleteAsync("regions");
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Null(await relay.FindAsync("regions"));
    }
}
