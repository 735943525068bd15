using FuncKeyOps.Rotation;
using FuncKeyOps.Testing.Alerts;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>An alert webhook that hangs holds up neither a start (the orchestration is scheduled) nor the orchestration's steps.</summary>
public class DurableAlertOutageTests(DurableEngine engine) : IClassFixture<DurableEngine>
{
    private static readonly TimeSpan Signal = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_start_schedules_the_orchestration_and_the_rotation_runs_to_its_end_while_the_alert_webhook_hangs()
    {
        await using var webhook = await WebhookReceiver.StartAsync();
        await using var d = await DurableRotationHost.StartAsync(engine, AlertOutage.Settings());
        var key = await d.Host.RegisterKeyAsync();
        AlertOutage.HangWebhook(d.Host, webhook);
        try
        {
            var rotation = await d.StartRotationAsync(key, RotationStrategy.Immediate, TimeSpan.FromMilliseconds(100)).WaitAsync(Signal);
            Assert.Equal(RotationStatus.Succeeded, await d.CompletionAsync(rotation, Signal));

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
