using FuncKeyOps.Rotation;
using FuncKeyOps.Testing.Alerts;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>An alert webhook that hangs holds up neither a start through the admin API nor the Server driver's steps.</summary>
public class ServerAlertOutageTests
{
    [Fact]
    public async Task A_start_answers_and_the_rotation_runs_to_its_end_while_the_alert_webhook_hangs_and_the_alerts_go_out_once_it_answers()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var host = await RotationHost.StartAsync(AlertOutage.Settings(Settings()), serverDriver: true);
        var key = await host.RegisterKeyAsync();
        AlertOutage.HangWebhook(host, webhook);
        try
        {
            var rotation = await StartAsync(host, key, RotationStrategy.Immediate).WaitAsync(Signal); // 202 while the webhook hangs
            await AdvanceUntilAsync(host, host.ServerDriver, () => FinishedAsync(host, rotation));

            Assert.Equal(RotationStatus.Succeeded, (await host.Store.GetAsync(key, rotation.Id))!.Status);
            Assert.Empty(webhook.Posts);
            webhook.Release();
            await Task.WhenAll(webhook.ReceivedAsync("rotation.started"), webhook.ReceivedAsync("rotation.succeeded")).WaitAsync(Signal);
        }
        finally
        {
            webhook.Release();
        }
    }
}
