using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.ProviderKeys;

public class ProviderKeyAdminTests
{
    private static HttpRequestMessage Admin(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, "api/admin/" + path);
        request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        return request;
    }

    [Fact]
    public async Task Register_list_and_stage_a_pending_version()
    {
        await using var host = await RelayHost.StartAsync();
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();

        using (var created = await host.Client.SendAsync(Admin(HttpMethod.Put, "provider-keys/openai-backup",
            new { provider = "openai", baseUrl = "https://api.openai.com/", secretName = "openai-backup", connector = "manual" })))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await registry.PutAsync((await registry.GetAsync("openai-backup"))! with { Weights = new Dictionary<string, int> { ["v1"] = 100 } });
        using (var again = await host.Client.SendAsync(Admin(HttpMethod.Put, "provider-keys/openai-backup",
            new { provider = "openai", baseUrl = "https://eu.api.openai.com/" })))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var stored = (await registry.GetAsync("openai-backup"))!;
        Assert.Equal(100, stored.Weights["v1"]); // re-registering never resets traffic weights
        Assert.Equal("openai-backup", stored.SecretName);

        using var staged = await host.Client.SendAsync(Admin(HttpMethod.Post, "provider-keys/openai-backup/versions", new { value = "fake-staged-value-123" }));
        Assert.Equal(HttpStatusCode.Created, staged.StatusCode);
        var body = await staged.Content.ReadAsStringAsync();
        Assert.DoesNotContain("fake-staged-value-123", body);
        var version = JsonDocument.Parse(body).RootElement.GetProperty("version").GetString();
        var secret = await host.Services.GetRequiredService<ISecretStore>().GetAsync("openai-backup", version);
        Assert.Equal(SecretVersionState.Pending, secret.Info.State);

        using var list = await host.Client.SendAsync(Admin(HttpMethod.Get, "provider-keys"));
        Assert.Contains("openai-backup", await list.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"provider":"mistral","baseUrl":"https://x.example/"}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"ftp://x.example/"}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://user:pw@x.example/"}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","connector":"magic"}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","policy":{"period":"90 days"}}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","policy":{"strategy":"emergency"}}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","policy":{"colour":"red"}}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","policy":{"period":"P1D","warningWindow":"P2D"}}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","connectorSettings":{"project":7}}""", "invalid_request_body")]
    [InlineData("""not json""", "invalid_request_body")]
    public async Task Bad_registrations_are_400(string json, string code)
    {
        await using var host = await RelayHost.StartAsync();
        using var request = Admin(HttpMethod.Put, "provider-keys/bad");
        request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_policy_and_connector_settings_are_stored_and_shown()
    {
        await using var host = await RelayHost.StartAsync();
        using (var created = await host.Client.SendAsync(Admin(HttpMethod.Put, "provider-keys/openai-team", new
        {
            provider = "openai", baseUrl = "https://api.openai.com/", connector = "openai",
            policy = new { period = "P30D", strategy = "blue-green", holds = "PT1S" },
            connectorSettings = new Dictionary<string, string> { ["projectId"] = "proj_1", ["adminKeySecret"] = "openai-admin" },
        })))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var stored = (await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-team"))!;
        var policy = FuncKeyOps.Rotation.RotationPolicy.Parse(stored.Policy);
        Assert.Equal(TimeSpan.FromDays(30), policy.Period);
        Assert.Equal(TimeSpan.FromDays(14), policy.WarningWindow);
        Assert.Equal(FuncKeyOps.Rotation.RotationStrategy.BlueGreen, policy.Strategy);
        Assert.Equal(TimeSpan.FromSeconds(1), policy.Holds);
        Assert.Equal("proj_1", stored.ConnectorSettings["projectId"]);

        using var read = await host.Client.SendAsync(Admin(HttpMethod.Get, "provider-keys/openai-team"));
        var key = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement.GetProperty("key");
        Assert.Equal("P30D", key.GetProperty("policy").GetProperty("period").GetString());
        Assert.Equal("openai-admin", key.GetProperty("connectorSettings").GetProperty("adminKeySecret").GetString());
    }

    [Fact]
    public async Task Staging_for_an_unknown_key_is_404()
    {
        await using var host = await RelayHost.StartAsync();
        using var response = await host.Client.SendAsync(Admin(HttpMethod.Post, "provider-keys/nope/versions", new { value = "fake-x" }));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
