using System.Net;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Admin;

/// <summary>A hanging Table Storage bounds admin calls: 503 with Retry-After in the admin shape, not a hang.</summary>
public class AdminStorageTimeoutTests
{
    [Fact]
    public async Task Admin_calls_answer_503_with_retry_after_when_storage_hangs()
    {
        // Its own Azurite: pausing the shared one would stall every other test.
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var admin = await AdminServer.StartAsync(azurite.ConnectionString, new Dictionary<string, string?>
        {
            ["Admin:StorageTimeout"] = "00:00:03",
        });
        // Set up through the services, unbounded: on a busy machine a fresh Azurite's first calls can take seconds.
        var (key, _) = await admin.Services.GetRequiredService<RelayKeyService>().CreateAsync(new RelayKeySpec { Tenant = "t", Name = "n" });
        var id = key.Id;
        // Generous next to the 3 s bound, so unbounded code fails here instead of hanging the run.
        using var client = new HttpClient { BaseAddress = admin.Client.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };

        azurite.Pause();
        try
        {
            (HttpMethod, string, string?)[] calls =
            [
                (HttpMethod.Get, $"api/admin/relay-keys/{id}", null),
                (HttpMethod.Post, "api/admin/relay-keys", """{"tenant":"t","name":"n"}"""),
                (HttpMethod.Post, $"api/admin/relay-keys/{id}/suspend", null),
                (HttpMethod.Put, "api/admin/provider-keys/openai-main", """{"provider":"openai","baseUrl":"https://api.openai.com"}"""),
                (HttpMethod.Get, "api/admin/audit", null),
            ];
            foreach (var (method, path, json) in calls)
            {
                using var request = admin.Request(method, path, json);
                using var response = await client.SendAsync(request);
                await AdminEndpointTests.AssertError(response, HttpStatusCode.ServiceUnavailable, "storage_unavailable");
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{method} {path}: no Retry-After");
                Assert.True(response.Headers.CacheControl!.NoStore);
            }
        }
        finally
        {
            azurite.Resume();
        }

        // A change that could not be stored leaves its admin event in the log instead (the table hangs too).
        Assert.Contains(admin.Host.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal)
            && l.Contains("Admin event not stored: POST relay-keys/{id}/suspend", StringComparison.Ordinal));

        // Storage back: the same calls work again.
        using var back = await admin.Client.SendAsync(admin.Request(HttpMethod.Get, $"api/admin/relay-keys/{id}"));
        Assert.Equal(HttpStatusCode.OK, back.StatusCode);
    }
}
