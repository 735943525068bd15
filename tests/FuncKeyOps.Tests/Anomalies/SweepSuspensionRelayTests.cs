using System.ClientModel;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using static FuncKeyOps.Tests.Anomalies.FindingParts;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>A relay key the sweep suspended, as a client sees it through the Server host with the official OpenAI SDK.</summary>
public class SweepSuspensionRelayTests
{
    [Fact]
    public async Task A_relay_key_the_sweep_suspended_gets_401_in_OpenAIs_shape_and_resume_restores_it_both_in_the_trail()
    {
        await using var host = await RelayHost.StartAsync();
        var (key, secret) = await host.CreateRelayKeyAsync();
        var chat = RelaySdks.OpenAIChat(host, secret, retry: false);
        Assert.NotEmpty((await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
        var finding = NewFinding(Detectors.NewSource, FindingSubject.RelayKey(key.Id), FindingSeverity.High, DateTimeOffset.UtcNow);

        var responded = await Responder(host.Services).RespondAsync(finding, CancellationToken.None);

        Assert.Equal((FindingAction.Suspend, FindingActionState.Taken), (responded.Action, responded.ActionState));
        var forwarded = host.OpenAI.Requests.Count;
        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(401, error.Status);
        var body = JsonDocument.Parse(error.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
        Assert.Equal("invalid_relay_key", body.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("type").GetString()));
        Assert.Contains("suspended", body.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(forwarded, host.OpenAI.Requests.Count); // refused before any provider call

        using (var resume = new HttpRequestMessage(HttpMethod.Post, $"api/admin/relay-keys/{key.Id}/resume"))
        {
            resume.Headers.Add(AdminAuth.HeaderName, RelayHost.AdminKey);
            using var resumed = await host.Client.SendAsync(resume);
            Assert.Equal(200, (int)resumed.StatusCode);
        }
        Assert.NotEmpty((await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);

        var (events, _) = await host.Services.GetRequiredService<AdminEventStore>()
            .PageAsync(finding.FoundAt.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1), AdminEventStore.MaxPageSize, null, CancellationToken.None);
        var admin = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RelayHost.AdminKey)))[..8];
        Assert.Equal([$"POST relay-keys/{{id}}/resume 200 {admin}", "POST relay-keys/{id}/suspend 200 sweep"],
            events.Where(e => e.Target == key.Id).Select(e => $"{e.Method} {e.Route} {e.Status} {e.Actor}"));
    }
}
