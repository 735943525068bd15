using System.Net;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary><c>DELETE provider-keys/{name}</c>: never silently moves a provider's traffic to another key.</summary>
public class ProviderKeyDeleteTests
{
    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString();

    [Fact]
    public async Task Deleting_the_only_key_of_a_provider_stops_its_traffic_at_once_and_keeps_the_secret()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        using (var before = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode); // the relay's registry snapshot is warm
        var upstreamCalls = host.OpenAI.Requests.Count;

        var (deleted, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-main");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using var after = await host.Client.SendAsync(OpenAIChat(relayKey));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, after.StatusCode);
        Assert.Equal("no_provider_key", await ErrorCodeAsync(after));
        Assert.Equal(upstreamCalls, host.OpenAI.Requests.Count);
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-main"));
        Assert.NotEmpty(await host.Services.GetRequiredService<ISecretStore>().ListVersionsAsync("openai-main"));

        var (again, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-main");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Deleting_the_key_that_serves_a_provider_with_other_keys_is_409_and_a_spare_key_can_go()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-spare", "openai", host.OpenAI.BaseUri); // sorts after openai-main

        var (refused, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-main");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("provider_key_in_use", await ErrorCodeAsync(refused));
        Assert.NotNull(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-main"));

        var (spare, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-spare");
        Assert.Equal(HttpStatusCode.NoContent, spare.StatusCode);
        var (main, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-main");
        Assert.Equal(HttpStatusCode.NoContent, main.StatusCode);
    }

    [Fact]
    public async Task Deleting_an_unknown_key_is_404()
    {
        await using var host = await RelayHost.StartAsync();
        var (response, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/nope");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", await ErrorCodeAsync(response));
    }
}
