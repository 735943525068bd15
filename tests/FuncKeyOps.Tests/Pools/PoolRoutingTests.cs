using System.Net;
using System.Text.Json;
using FuncKeyOps.Pools;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Pools;

/// <summary>A relay key bound to a pool: the router expands it to its registered members, the relay calls with them.</summary>
public class PoolRoutingTests
{
    private static ProviderKeyConfig Key(string name, string provider = "azure-openai", string? tenant = null) =>
        new() { Name = name, Provider = provider, BaseUrl = new Uri($"https://{name}.example/"), SecretName = name, Tenant = tenant };

    private static RelayKey BoundTo(string provider, string name) =>
        new() { Id = "k1", Tenant = "tests", Name = "bound", ProviderKeys = new Dictionary<string, string> { [provider] = name } };

    [Fact]
    public async Task A_pool_expands_to_its_registered_members_in_order_with_their_weights_and_deployments()
    {
        var tables = await TestTables.CreateAsync(TestNames.NewTablePrefix());
        var options = Options.Create(new ProviderKeyOptions());
        var keys = new ProviderKeyRegistry(tables, options, TimeProvider.System);
        var pools = new PoolRegistry(tables, options, TimeProvider.System);
        var router = new ProviderRouter(keys, pools, new PlatformOnly());
        foreach (var name in new[] { "az-east", "az-west", "az-north" })
            await keys.PutAsync(Key(name));
        await keys.PutAsync(Key("oa-main", "openai"));
        await pools.PutAsync(new ProviderKeyPool
        {
            Name = "regions",
            Provider = "azure-openai",
            Mode = PoolMode.Weighted,
            Members =
            [
                new PoolMember { KeyName = "az-west", Weight = 1, Deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-west" } },
                new PoolMember { KeyName = "az-north", Weight = 0 },
                new PoolMember { KeyName = "az-east", Weight = 3, Deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-east" } },
            ],
        });

        var route = await router.RouteAsync(BoundTo("azure-openai", "regions"), "azure-openai");
        Assert.Null(route.Missing);
        Assert.Equal(("regions", PoolMode.Weighted), (route.Pool, route.Mode));
        Assert.Equal(["az-west", "az-north", "az-east"], route.Members.Select(m => m.Key.Name));
        Assert.Equal([1, 0, 3], route.Members.Select(m => m.Weight));
        Assert.Equal("mini-west", route.Members[0].Deployments["gpt-4o-mini"]);
        Assert.Empty(route.Members[1].Deployments);
        Assert.Equal("https://az-east.example/", route.Members[2].Key.BaseUrl.ToString());

        // A member removed from the registry behind the pool's back is skipped; the others still serve.
        await keys.DeleteIfUnchangedAsync((await keys.GetAsync("az-west"))!);
        Assert.Equal(["az-north", "az-east"], (await router.RouteAsync(BoundTo("azure-openai", "regions"), "azure-openai")).Members.Select(m => m.Key.Name));

        // A pool is not a route to another provider; a key of the provider bound by name is a single-key route.
        Assert.Equal(FuncKeyOps.Errors.FuncKeyOpsErrors.BoundProviderKeyMissing, (await router.RouteAsync(BoundTo("openai", "regions"), "openai")).Missing);
        var single = await router.RouteAsync(BoundTo("azure-openai", "az-east"), "azure-openai");
        Assert.Equal((null, "az-east"), (single.Pool, Assert.Single(single.Members).Key.Name));
    }

    [Fact]
    public async Task A_relay_key_bound_to_a_pool_is_served_by_its_first_member_and_answers_503_once_the_pool_is_deleted()
    {
        await using var host = await RelayHost.StartAsync();
        const string second = "fake-openai-second-key";
        host.OpenAI.AcceptKey(second);
        await ActiveProviderKeys.RegisterAsync(host.Server, "openai-second", "openai", host.OpenAI.BaseUri, second);
        var (created, _) = await AdminAsync(host, HttpMethod.Put, "pools/team-a", new
        {
            provider = "openai",
            mode = "ordered",
            members = new[] { new { key = "openai-second" }, new { key = "openai-main" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var (_, secret) = await CreateRelayKeyAsync(host.Client,
            new { tenant = "tests", name = "bound", providerKeys = new Dictionary<string, string> { ["openai"] = "team-a" } });

        using (var served = await host.Client.SendAsync(OpenAIChat(secret)))
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("Bearer " + second, host.OpenAI.Requests[^1].Headers["Authorization"]);

        var (deleted, _) = await AdminAsync(host, HttpMethod.Delete, "pools/team-a");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var upstreamCalls = host.OpenAI.Requests.Count;
        using var refused = await host.Client.SendAsync(OpenAIChat(secret));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var error = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("bound_provider_key_missing", error.GetProperty("code").GetString());
        Assert.Equal(upstreamCalls, host.OpenAI.Requests.Count);
    }

    // No tenant brings its own key here: the router's pool expansion is what this test looks at.
    private sealed class PlatformOnly : ITenantKeyDirectory
    {
        public ValueTask<TenantKeyRoute> FindAsync(string tenant, string provider, CancellationToken cancellationToken = default) => new(TenantKeyRoute.Platform);
    }
}
