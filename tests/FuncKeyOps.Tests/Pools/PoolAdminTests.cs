using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.Pools;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Pools;

/// <summary><c>PUT/GET/DELETE pools/{name}</c>, <c>GET pools</c> through the Server host's admin API.</summary>
public class PoolAdminTests
{
    private static string Code(JsonElement body) => body.GetProperty("error").GetProperty("code").GetString()!;
    private static string Message(JsonElement body) => body.GetProperty("error").GetProperty("message").GetString()!;

    private static object Body(string mode, params object[] members) => new { provider = "openai", mode, members };

    private static async Task<Azure.ETag> RowETagAsync(RelayHost host, string name)
    {
        var table = await host.Services.GetRequiredService<TableStore>().GetTableAsync(TableNames.Pools);
        return (await table.GetEntityAsync<TableEntity>(TableKeys.PoolPartition, name)).Value.ETag;
    }

    [Fact]
    public async Task A_pool_is_created_read_listed_replaced_and_deleted_and_the_same_body_again_changes_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-spare", "openai", host.OpenAI.BaseUri);
        var body = Body("weighted", new { key = "openai-main", weight = 3 }, new { key = "openai-spare" });

        var (created, view) = await AdminAsync(host, HttpMethod.Put, "pools/team-a", body);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("""{"name":"team-a","provider":"openai","mode":"weighted","members":[{"key":"openai-main","weight":3,"deployments":{}},{"key":"openai-spare","weight":1,"deployments":{}}]}""",
            view.GetRawText());
        var etag = await RowETagAsync(host, "team-a");

        var (again, againView) = await AdminAsync(host, HttpMethod.Put, "pools/team-a", body);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(view.GetRawText(), againView.GetRawText());
        Assert.Equal(etag, await RowETagAsync(host, "team-a")); // not written again

        var (read, readView) = await AdminAsync(host, HttpMethod.Get, "pools/team-a");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(view.GetRawText(), readView.GetRawText());

        var (replaced, replacedView) = await AdminAsync(host, HttpMethod.Put, "pools/team-a", Body("ordered", new { key = "openai-spare" }, new { key = "openai-main" }));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("ordered", replacedView.GetProperty("mode").GetString());
        Assert.NotEqual(etag, await RowETagAsync(host, "team-a"));

        var (listed, list) = await AdminAsync(host, HttpMethod.Get, "pools");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var only = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal(["openai-spare", "openai-main"], only.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("key").GetString()));

        var (deleted, _) = await AdminAsync(host, HttpMethod.Delete, "pools/team-a");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, goneBody) = await AdminAsync(host, HttpMethod.Get, "pools/team-a");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("not_found", Code(goneBody));
        var (deletedAgain, _) = await AdminAsync(host, HttpMethod.Delete, "pools/team-a");
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    [Fact]
    public async Task An_azure_openai_pool_keeps_each_members_deployment_names()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "azure-west", "azure-openai", host.Azure.BaseUri);
        var (created, view) = await AdminAsync(host, HttpMethod.Put, "pools/azure-regions", new
        {
            provider = "azure-openai",
            members = new object[]
            {
                new { key = "azure-openai-main", weight = 2, deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-sweden" } },
                new { key = "azure-west", weight = 1, deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-westus.v2" } },
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("weighted", view.GetProperty("mode").GetString()); // the default mode

        var stored = await host.Services.GetRequiredService<PoolRegistry>().GetAsync("azure-regions");
        Assert.Equal(["mini-sweden", "mini-westus.v2"], stored!.Members.Select(m => m.Deployments["gpt-4o-mini"]));
    }

    [Fact]
    public async Task Invalid_pools_are_400_with_the_field_named_and_nothing_is_stored()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-spare", "openai", host.OpenAI.BaseUri);
        await host.Services.GetRequiredService<ProviderKeyRegistry>().PutAsync(new ProviderKeyConfig
        {
            Name = "tenant-x-openai", Provider = "openai", BaseUrl = host.OpenAI.BaseUri, SecretName = "tenant-x-openai", Tenant = "tenant-x",
        });
        var mini = new Dictionary<string, string> { ["gpt-4o-mini"] = "mini-east" };
        (string Path, object Body, string Says)[] cases =
        [
            ("pools/bad_name", Body("weighted", new { key = "openai-main" }), "letters, digits or '-'"),
            ("pools/p", new { provider = "mistral", members = new[] { new { key = "openai-main" } } }, "'provider' must be one of"),
            ("pools/p", new { members = new[] { new { key = "openai-main" } } }, "'provider' must be one of"),
            ("pools/p", Body("random", new { key = "openai-main" }), "'mode' must be 'weighted' or 'ordered'"),
            ("pools/p", Body("weighted"), "'members' must list at least one"),
            ("pools/p", new { provider = "openai" }, "'members' must list at least one"),
            ("pools/p", Body("weighted", Enumerable.Range(0, 33).Select(i => new { key = $"k{i}" }).ToArray<object>()), "at most 32"),
            ("pools/p", Body("weighted", new { key = "openai-main" }, new { weight = 1 }), "'members[1].key' must name a provider key"),
            ("pools/p", Body("weighted", new { key = "openai-nope" }), "'members[0].key': 'openai-nope' is not a registered provider key"),
            ("pools/p", Body("weighted", new { key = "anthropic-main" }), "'anthropic-main' is a anthropic key; this pool is for openai"),
            ("pools/p", Body("weighted", new { key = "tenant-x-openai" }), "is a tenant's own key"),
            ("pools/p", Body("weighted", new { key = "openai-main" }, new { key = "openai-main" }), "'members[1].key': 'openai-main' is listed twice"),
            ("pools/p", Body("ordered", new { key = "openai-main", weight = -1 }), "'members[0].weight' must be from 0 to 1000"),
            // Summed as int, two of these overflowed and every call through the pool failed.
            ("pools/p", Body("weighted", new { key = "openai-main", weight = int.MaxValue }, new { key = "openai-spare", weight = int.MaxValue }), "'members[0].weight' must be from 0 to 1000"),
            ("pools/p", Body("weighted", new { key = "openai-main", weight = 1 }, new { key = "openai-spare", weight = 1001 }), "'members[1].weight' must be from 0 to 1000"),
            ("pools/p", Body("weighted", new { key = "openai-main", weight = 0 }, new { key = "openai-spare", weight = 0 }), "at least one member needs a weight above 0"),
            ("pools/p", Body("weighted", new { key = "openai-main", deployments = mini }), "applies to azure-openai pools only"),
            ("pools/p", new { provider = "azure-openai", members = new[] { new { key = "azure-openai-main", deployments = new Dictionary<string, string> { ["gpt-4o-mini"] = "../models" } } } },
                "'members[0].deployments': 'gpt-4o-mini' -> '../models' is not a deployment name"),
            ("pools/p", new { provider = "azure-openai", members = new[] { new { key = "azure-openai-main", deployments = new Dictionary<string, string> { ["a/b"] = "mini" } } } },
                "is not a deployment name"),
        ];
        foreach (var (path, body, says) in cases)
        {
            var (response, error) = await AdminAsync(host, HttpMethod.Put, path, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{says}: {response.StatusCode}");
            Assert.Equal("invalid_request", Code(error));
            Assert.Contains(says, Message(error));
        }
        Assert.Empty(await host.Services.GetRequiredService<PoolRegistry>().ListAsync());

        // All weights 0 is a valid ordered pool: order alone decides there.
        var (ordered, _) = await AdminAsync(host, HttpMethod.Put, "pools/p", Body("ordered", new { key = "openai-main", weight = 0 }));
        Assert.Equal(HttpStatusCode.Created, ordered.StatusCode);

        var (unknownField, unreadable) = await AdminAsync(host, HttpMethod.Put, "pools/p", new { provider = "openai", members = new[] { new { key = "openai-main", wieght = 2 } } });
        Assert.Equal(HttpStatusCode.BadRequest, unknownField.StatusCode);
        Assert.Equal("invalid_request_body", Code(unreadable));
    }

    [Fact]
    public async Task A_pool_and_a_provider_key_never_share_a_name()
    {
        await using var host = await RelayHost.StartAsync();
        var (poolNamedAsKey, poolError) = await AdminAsync(host, HttpMethod.Put, "pools/openai-main", Body("weighted", new { key = "openai-main" }));
        Assert.Equal(HttpStatusCode.Conflict, poolNamedAsKey.StatusCode);
        Assert.Equal("conflict", Code(poolError));
        Assert.Contains("'openai-main' is a provider key", Message(poolError));
        Assert.Null(await host.Services.GetRequiredService<PoolRegistry>().GetAsync("openai-main"));

        var (pool, _) = await AdminAsync(host, HttpMethod.Put, "pools/shared-name", Body("weighted", new { key = "openai-main" }));
        Assert.Equal(HttpStatusCode.Created, pool.StatusCode);
        var (keyNamedAsPool, keyError) = await AdminAsync(host, HttpMethod.Put, "provider-keys/shared-name",
            new { provider = "openai", baseUrl = host.OpenAI.BaseUri.ToString() });
        Assert.Equal(HttpStatusCode.Conflict, keyNamedAsPool.StatusCode);
        Assert.Equal("conflict", Code(keyError));
        Assert.Contains("'shared-name' is a pool", Message(keyError));
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("shared-name"));
    }

    [Fact]
    public async Task A_provider_key_in_a_pool_cannot_be_deleted_until_the_pool_lets_it_go()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-spare", "openai", host.OpenAI.BaseUri);
        await AdminAsync(host, HttpMethod.Put, "pools/team-a", Body("ordered", new { key = "openai-main" }, new { key = "openai-spare" }));
        await AdminAsync(host, HttpMethod.Put, "pools/team-b", Body("ordered", new { key = "openai-spare" }));

        var (refused, error) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-spare");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("provider_key_in_use", Code(error));
        Assert.Contains("'team-a', 'team-b'", Message(error));
        Assert.NotNull(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-spare"));

        await AdminAsync(host, HttpMethod.Put, "pools/team-a", Body("ordered", new { key = "openai-main" }));
        await AdminAsync(host, HttpMethod.Delete, "pools/team-b");
        var (deleted, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-spare");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }
}
