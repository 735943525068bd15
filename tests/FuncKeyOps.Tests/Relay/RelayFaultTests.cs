using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Audit;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

/// <summary>Dependencies going away mid-run: the relay keeps serving, and nothing is lost once they are back.</summary>
public class RelayFaultTests
{
    private static HttpRequestMessage Chat(string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return request;
    }

    [Fact]
    public async Task With_Key_Vault_stopped_requests_keep_succeeding_from_the_cache()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        using (var warm = await host.Client.SendAsync(Chat(secret)))
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var vaultCalls = host.Server.Vault.RequestCount;

        await host.Server.Vault.StopAsync();
        for (var i = 0; i < 20; i++)
        {
            using var response = await host.Client.SendAsync(Chat(secret));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(vaultCalls, host.Server.Vault.RequestCount); // and not one call per request before either
        Assert.Equal(21, (await host.RowsAsync(key.Id)).Count);
    }

    [Fact]
    public async Task With_Table_Storage_stopped_requests_keep_succeeding_and_every_audit_row_arrives_later()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var host = await RelayHost.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Audit:InitialRetryDelay"] = "00:00:00.050",
            ["Audit:MaxRetryDelay"] = "00:00:00.200",
        });
        var (key, secret) = await host.CreateRelayKeyAsync();
        using (var warm = await host.Client.SendAsync(Chat(secret)))
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        var writer = host.Services.GetRequiredService<AuditWriter>();
        await writer.FlushAsync();

        await azurite.StopAsync();
        const int duringOutage = 25;
        for (var i = 0; i < duringOutage; i++)
        {
            using var response = await host.Client.SendAsync(Chat(secret));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.True(writer.PendingCount > 0); // held, not stored and not dropped

        await azurite.StartAgainAsync();
        var rows = await host.RowsAsync(key.Id);
        Assert.Equal(1 + duringOutage, rows.Count);
        Assert.Equal(1 + duringOutage, rows.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(0, writer.DroppedCount);
    }
}
