using Azure.Data.Tables;
using FuncKeyOps.Tests.Functions;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// The built Functions app under a real Functions host starts the Durable extension as host.json configures it:
/// its HTTP API answers, and its task hub is the Azure Storage one named <c>FuncKeyOps</c> (the provider's tables
/// <c>{hub}Instances</c> and <c>{hub}History</c> in the app's storage).
/// </summary>
public class FunctionsDurableHostTests(FunctionsApp app) : IClassFixture<FunctionsApp>
{
    [FunctionsHostFact]
    public async Task The_host_runs_the_Durable_extension_on_the_FuncKeyOps_task_hub_in_Azure_Storage()
    {
        using var response = await app.Client.GetAsync(
            new Uri(app.BaseUri, $"runtime/webhooks/durabletask/instances?code={Uri.EscapeDataString(app.Host.MasterKey)}"));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");

        var tables = new TableServiceClient(app.StorageConnectionString);
        var names = new List<string>();
        await foreach (var table in tables.QueryAsync(t => t.Name == "FuncKeyOpsInstances" || t.Name == "FuncKeyOpsHistory"))
            names.Add(table.Name);
        Assert.Equal(["FuncKeyOpsHistory", "FuncKeyOpsInstances"], names.Order());
    }
}
