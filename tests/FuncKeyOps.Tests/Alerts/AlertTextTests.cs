using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Alerts;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.Alerts;

/// <summary>The webhook body's <c>text</c>: the one line a Slack or Teams incoming webhook shows, sent over HTTP to a receiver.</summary>
public class AlertTextTests : IAsyncLifetime
{
    private readonly string _webhookSecret = TestNames.NewSecretName("alert-webhook");
    private TestVault _vault = null!;
    private WebhookReceiver _webhook = null!;

    public async Task InitializeAsync()
    {
        _vault = await TestVault.StartAsync();
        _webhook = await WebhookReceiver.StartAsync();
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
    }

    public async Task DisposeAsync()
    {
        await _webhook.DisposeAsync();
        await _vault.DisposeAsync();
    }

    [Fact]
    public async Task The_text_line_names_kind_subject_and_message_with_Slacks_control_characters_escaped_on_one_line()
    {
        await using var instance = await AlertsInstance.StartAsync(_vault, TestNames.NewTablePrefix(), _webhookSecret);
        var alert = new Alert("rotation.failed", "openai-main", "Revoke refused <@here> & retried\nnext step at 09:05",
            "rotation.failed/openai-main/" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow);

        await instance.Sink.PublishAsync(alert, CancellationToken.None);

        var body = Assert.Single(_webhook.Posts);
        Assert.Equal("[rotation.failed] openai-main: Revoke refused &lt;@here&gt; &amp; retried next step at 09:05", body.GetProperty("text").GetString());
        Assert.Equal(alert.Message, body.GetProperty("message").GetString()); // the fields stay as they were
    }

    [Fact]
    public async Task A_findings_alert_says_what_was_found_and_done_in_its_text()
    {
        await using var instance = await AlertsInstance.StartAsync(_vault, TestNames.NewTablePrefix(), _webhookSecret);
        var window = SweepWindow.Containing(DateTimeOffset.UtcNow).Previous;
        var finding = new Finding
        {
            Id = FindingId.For(Detectors.NewSource, "relay-key:abcdefabcdef", window),
            Detector = Detectors.NewSource,
            Subject = "relay-key:abcdefabcdef",
            WindowStart = window.Start,
            WindowEnd = window.End,
            Observed = 150,
            Threshold = 100,
            Severity = FindingSeverity.High,
            Summary = "150 calls from 203.0.113.7, unseen for this key in 30 days.",
            Action = FindingAction.Suspend,
            ActionState = FindingActionState.Taken,
            ActionOutcome = "Relay key abcdefabcdef suspended; POST relay-keys/abcdefabcdef/resume lifts it.",
            FoundAt = DateTimeOffset.UtcNow,
        };

        await instance.Sink.PublishAsync(FindingAlerts.For(finding), CancellationToken.None);

        var body = Assert.Single(_webhook.Posts);
        Assert.Equal("[anomaly.new_source] relay-key:abcdefabcdef: 150 calls from 203.0.113.7, unseen for this key in 30 days. "
            + "Relay key abcdefabcdef suspended; POST relay-keys/abcdefabcdef/resume lifts it.", body.GetProperty("text").GetString());
        Assert.Equal(finding.Id, body.GetProperty("dedupeKey").GetString());
        Assert.Equal(("high", "suspend", "taken"), (body.GetProperty("details").GetProperty("severity").GetString(),
            body.GetProperty("details").GetProperty("action").GetString(), body.GetProperty("details").GetProperty("actionState").GetString()));
    }
}
