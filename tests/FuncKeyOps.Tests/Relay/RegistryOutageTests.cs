using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// Table Storage down for longer than the provider-key registry may serve its copy: an outage, answered 503 with
/// Retry-After in the provider's shape, never a 502 relay_error logged as the relay's own failure.
/// </summary>
public class RegistryOutageTests
{
    [Fact]
    public async Task A_registry_past_its_stale_bound_answers_503_storage_unavailable_in_the_provider_shape()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The registry's bound runs out well before the relay key row's, so the call gets as far as the registry.
        await using var host = await RelayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["ProviderKeys:MaxStale"] = "00:01:00",
            ["RelayKeys:MaxStale"] = "01:00:00",
        }, time);
        var (_, secret) = await host.CreateRelayKeyAsync();
        using (var warm = await host.Client.SendAsync(Chat(secret)))
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);

        await azurite.StopAsync();
        time.Advance(TimeSpan.FromMinutes(5));
        using var response = await host.Client.SendAsync(Chat(secret));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "no Retry-After");
        Assert.Contains("\"code\":\"storage_unavailable\"", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(host.Server.Logs.Lines, line => line.StartsWith("Error ", StringComparison.Ordinal));
    }

    private static HttpRequestMessage Chat(string relayKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        return request;
    }
}
