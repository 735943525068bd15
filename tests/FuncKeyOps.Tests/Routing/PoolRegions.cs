using System.Net;
using System.Text;
using FuncKeyOps.Audit;
using FuncKeyOps.Pools;
using FuncKeyOps.Routing;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Routing;

/// <summary>
/// Two fake Azure OpenAI "regions" (east, west) behind the Server host: a provider key each (its own base URL and
/// value), a pool over both, and a relay key bound to the pool. Calls are Azure's own wire format.
/// </summary>
internal sealed class PoolRegions : IAsyncDisposable
{
    public const string PoolName = "aoai-regions";
    public const string EastKey = "aoai-east";
    public const string WestKey = "aoai-west";
    public const string Deployment = "gpt-4o-mini";

    private PoolRegions(RelayHost host, FakeAzureOpenAI east, FakeAzureOpenAI west)
    {
        Host = host;
        East = east;
        West = west;
    }

    public RelayHost Host { get; }
    public FakeAzureOpenAI East { get; }
    public FakeAzureOpenAI West { get; }
    public string RelayKeyId { get; private set; } = "";
    private string Secret { get; set; } = "";

    /// <param name="westDeployments">West's names for the client's deployments (its own region's names).</param>
    public static async Task<PoolRegions> StartAsync(PoolMode mode = PoolMode.Ordered, int eastWeight = 1, int westWeight = 1,
        IReadOnlyDictionary<string, string>? westDeployments = null, IDictionary<string, string?>? settings = null, IProviderKeyLimiter? limiter = null)
    {
        var host = await RelayHost.StartAsync(settings: settings, configure: limiter is null ? null : builder => builder.Services.AddSingleton(limiter));
        FakeAzureOpenAI? east = null, west = null;
        try
        {
            const string eastValue = "east-0123456789abcdef0123456789abcdef", westValue = "west-0123456789abcdef0123456789abcdef";
            east = await FakeAzureOpenAI.StartAsync(eastValue);
            west = await FakeAzureOpenAI.StartAsync(westValue);
            var regions = new PoolRegions(host, east, west);
            await ActiveProviderKeys.RegisterAsync(host.Server, EastKey, "azure-openai", east.BaseUri, eastValue);
            await ActiveProviderKeys.RegisterAsync(host.Server, WestKey, "azure-openai", west.BaseUri, westValue);
            var (pool, _) = await AdminAsync(host, HttpMethod.Put, $"pools/{PoolName}", new
            {
                provider = "azure-openai",
                mode = PoolModes.Name(mode),
                members = new object[]
                {
                    new { key = EastKey, weight = eastWeight },
                    new { key = WestKey, weight = westWeight, deployments = westDeployments ?? new Dictionary<string, string>() },
                },
            });
            Assert.Equal(HttpStatusCode.Created, pool.StatusCode);
            await regions.CreateBoundRelayKeyAsync();
            return regions;
        }
        catch
        {
            if (east is not null)
                await east.DisposeAsync();
            if (west is not null)
                await west.DisposeAsync();
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>A chat completion through the relay, as an Azure OpenAI client sends it.</summary>
    public Task<(int Status, string Body, string? RetryAfter)> ChatAsync() => ChatAsync(Secret);

    /// <summary>As <see cref="ChatAsync()"/> with another relay key (<see cref="CreateTenantKeyAsync"/>).</summary>
    public async Task<(int Status, string Body, string? RetryAfter)> ChatAsync(string secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/relay/azure-openai/openai/deployments/{Deployment}/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", secret);
        using var response = await Host.Client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.RetryAfter?.ToString());
    }

    public Task<IReadOnlyList<AuditRecord>> RowsAsync() => Host.RowsAsync(RelayKeyId);

    /// <summary>A relay key of another tenant bound to the same pool; returns its secret.</summary>
    public async Task<string> CreateTenantKeyAsync(string tenant) =>
        (await CreateRelayKeyAsync(Host.Client,
            new { tenant, name = "pooled", providerKeys = new Dictionary<string, string> { ["azure-openai"] = PoolName } })).Secret;

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await East.DisposeAsync();
        await West.DisposeAsync();
    }

    private async Task CreateBoundRelayKeyAsync() =>
        (RelayKeyId, Secret) = await CreateRelayKeyAsync(Host.Client,
            new { tenant = "tests", name = "pooled", providerKeys = new Dictionary<string, string> { ["azure-openai"] = PoolName } });
}
