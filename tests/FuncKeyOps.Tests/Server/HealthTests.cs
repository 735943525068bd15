using System.Net;
using System.Text.Json;
using FuncKeyOps.Testing.Storage;

namespace FuncKeyOps.Tests.Server;

public class HealthTests
{
    [Fact]
    public async Task Health_is_200_when_storage_and_vault_answer()
    {
        await using var host = await ServerHost.StartAsync();
        using var response = await host.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("keyVault").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_is_503_naming_the_vault_when_it_is_stopped()
    {
        await using var host = await ServerHost.StartAsync();
        await host.Vault.StopAsync();

        using var response = await host.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("keyVault").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Health_is_503_naming_storage_when_it_is_stopped_and_200_when_it_is_back()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var host = await ServerHost.StartAsync(azurite.ConnectionString);
        await azurite.StopAsync();

        using (var down = await host.Client.GetAsync("/api/health"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            using var body = JsonDocument.Parse(await down.Content.ReadAsStringAsync());
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
        }

        await azurite.StartAgainAsync();
        using var up = await host.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
    }
}
