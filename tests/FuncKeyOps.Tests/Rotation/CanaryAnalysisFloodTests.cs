using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The canary analysis reads the rows of the key and version under analysis only: a flood of other rows in its window
/// (here unauthenticated calls, which anyone can send) cannot push the new version's rows out of what it reads.
/// </summary>
public class CanaryAnalysisFloodTests
{
    [Fact]
    public async Task A_flood_of_unauthenticated_calls_during_a_hold_does_not_hide_the_new_versions_errors()
    {
        await using var host = await RotationHost.StartAsync(new Dictionary<string, string?> { ["Rotation:AnalysisMinRequests"] = "5" });
        var name = await host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var (_, relayKey) = await host.Relay.CreateRelayKeyAsync();
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);
        var flooded = 0;
        var sentToNew = 0;

        var status = await host.DriveAsync(rotation, afterStep: async (_, _) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (record.NewVersion is not { } version || (await host.Registry.GetAsync(name))!.Weights.GetValueOrDefault(version) != 10
                || record.Plan.Steps[record.StepIndex].Kind != RotationStepKind.Analyze || sentToNew > 0)
                return;
            // More rows than one audit read returns, all before the new version's calls (a minute earlier).
            flooded = await FloodAsync(host.Relay, AuditQuery.MaxLimit + 1);
            host.Time.Advance(TimeSpan.FromMinutes(1));
            sentToNew = await host.RefuseNewKeyUnderTrafficAsync(rotation, relayKey, calls: 6);
        });

        Assert.Equal(AuditQuery.MaxLimit + 1, flooded);
        Assert.True(sentToNew >= 5, $"only {sentToNew} calls went to the new version");
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.Equal(RotationStatus.RolledBack, status);
        Assert.Contains(record.History, h => h.Step == "analyze" && h.NextIndex == record.Plan.RollbackIndex && h.Result.Contains($"of {sentToNew} calls failed"));
    }

    /// <summary>Calls with a made-up relay key, 16 at a time; each is refused 401 and audited. Returns how many were refused.</summary>
    private static async Task<int> FloodAsync(RelayHost relay, int calls)
    {
        var refused = 0;
        await Parallel.ForAsync(0, calls, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
            {
                Content = new StringContent(ProviderKeyCalls.ChatBody, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", $"fko_flood{i % 97}_not-a-real-secret");
            using var response = await relay.Client.SendAsync(request, ct);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                Interlocked.Increment(ref refused);
        });
        await relay.Server.WaitIdleAsync();
        await relay.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);
        return refused;
    }
}
