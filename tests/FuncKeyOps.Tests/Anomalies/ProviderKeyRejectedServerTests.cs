using System.ClientModel;
using System.Net;
using System.Text.Json;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// Upstream refusal end to end through the Server host: the provider revokes the key the relay serves (its own leak
/// scanner, or someone at its console); relay calls get the refusal, <c>POST sweeps/run</c> raises
/// <c>provider_key_rejected</c> for the version, an emergency rotation replaces it, and the same client's calls are
/// answered again, on the new version.
/// </summary>
public class ProviderKeyRejectedServerTests
{
    [Fact]
    public async Task A_key_the_provider_revoked_is_found_rotated_and_traffic_recovers_on_the_new_version()
    {
        await using var drill = await LeakDrill.StartAsync();
        var key = await drill.AddKeyAsync("openai", pooled: false);
        var chat = RelaySdks.OpenAIChat(drill.Relay, key.RelaySecret, retry: false);
        Assert.NotEmpty((await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);

        drill.Relay.OpenAI.RevokeKey(key.Value);
        for (var i = 0; i < 2; i++)
        {
            var refused = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
            Assert.Equal(502, refused.Status);
            Assert.Contains("provider_key_rejected", refused.Message, StringComparison.Ordinal);
        }
        await drill.Relay.Server.WaitIdleAsync().WaitAsync(LeakDrill.Signal);
        await drill.Relay.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);

        var (run, runBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");
        Assert.True(run.StatusCode == HttpStatusCode.OK, $"{run.StatusCode}: {runBody}");
        var (list, listBody) = await drill.AdminAsync(HttpMethod.Get, "findings?detector=" + Detectors.ProviderKeyRejected);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var finding = Assert.Single(listBody.GetProperty("items").EnumerateArray());
        var id = finding.GetProperty("id").GetString()!;
        Assert.Equal((key.Subject, 2.0, "rotate", "taken"), (finding.GetProperty("subject").GetString(), finding.GetProperty("observed").GetDouble(),
            finding.GetProperty("action").GetString(), finding.GetProperty("actionState").GetString()));

        var rotation = new RotationId(key.Config.Name, ShadowUsageServerTests.RotationIdOf(finding.GetProperty("actionOutcome").GetString()!));
        var (status, statusBody) = await drill.AdminAsync(HttpMethod.Get, $"rotations/{rotation.KeyName}/{rotation.Id}");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal(("emergency", EmergencyRotation.Trigger, id), (statusBody.GetProperty("strategy").GetString(), statusBody.GetProperty("trigger").GetString(),
            statusBody.GetProperty("reason").GetString()));
        var record = await drill.DriveToEndAsync(rotation);
        Assert.True(record.Status == RotationStatus.Succeeded, $"{record.Status}: {string.Join("; ", record.History.Select(h => $"{h.Step}: {h.Result}"))}");

        // The same client, the same relay key: answered again, by the new version.
        var newValue = (await drill.Host.Secrets.GetAsync(key.Config.SecretName, record.NewVersion!)).Value;
        var sentBefore = drill.Relay.OpenAI.Requests.Count;
        for (var i = 0; i < 3; i++)
            Assert.NotEmpty((await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
        Assert.All(drill.Relay.OpenAI.Requests.Skip(sentBefore), r => Assert.Equal("Bearer " + newValue, r.Headers.GetValueOrDefault("Authorization")));

        await drill.Webhook.ReceivedAsync(FindingAlerts.KindPrefix + Detectors.ProviderKeyRejected).WaitAsync(LeakDrill.Signal);
        Assert.Single(drill.Webhook.Posts, p => p.GetProperty("kind").GetString() == FindingAlerts.KindPrefix + Detectors.ProviderKeyRejected);
        Assert.Equal(1, await FindingParts.RotationsStartedForAsync(drill.Host.Services, key.Config.Name, id));
    }
}
