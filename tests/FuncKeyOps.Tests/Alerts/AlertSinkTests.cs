using System.Net;
using System.Net.Sockets;
using Azure.Data.Tables;
using FuncKeyOps.Alerts;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Alerts;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Alerts;

/// <summary>The alert sink through real parts: Azurite's <c>alerts</c> table, the test vault, a webhook over HTTP.</summary>
public class AlertSinkTests : IAsyncLifetime
{
    private readonly string _prefix = TestNames.NewTablePrefix();
    private readonly string _webhookSecret = TestNames.NewSecretName("alert-webhook");
    private TestVault _vault = null!;
    private WebhookReceiver _webhook = null!;

    public async Task InitializeAsync()
    {
        _vault = await TestVault.StartAsync();
        _webhook = await WebhookReceiver.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _webhook.DisposeAsync();
        await _vault.DisposeAsync();
    }

    private static Alert NewAlert(string kind = "rotation.started", string? dedupeKey = null) =>
        new(kind, "openai-main", "Rotation started (canary)", dedupeKey ?? $"{kind}/openai-main/{Guid.NewGuid():N}",
            new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero), new Dictionary<string, string> { ["strategy"] = "canary" });

    private Task<AlertsInstance> InstanceAsync(TimeProvider? time = null) => AlertsInstance.StartAsync(_vault, _prefix, _webhookSecret, time);

    [Fact]
    public async Task The_webhook_receives_one_post_per_alert_with_its_fields()
    {
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
        await using var instance = await InstanceAsync();
        var started = NewAlert();

        await instance.Sink.PublishAsync(started, CancellationToken.None);
        await instance.Sink.PublishAsync(NewAlert("rotation.succeeded"), CancellationToken.None);

        Assert.Equal(2, _webhook.Posts.Count);
        var body = _webhook.Posts[0];
        Assert.Equal(started.Kind, body.GetProperty("kind").GetString());
        Assert.Equal(started.Subject, body.GetProperty("subject").GetString());
        Assert.Equal(started.Message, body.GetProperty("message").GetString());
        Assert.Equal(started.Time, body.GetProperty("time").GetDateTimeOffset());
        Assert.Equal("canary", body.GetProperty("details").GetProperty("strategy").GetString());
        Assert.Equal(started.DedupeKey, body.GetProperty("dedupeKey").GetString());
        Assert.Equal("rotation.succeeded", _webhook.Posts[1].GetProperty("kind").GetString());
    }

    [Fact]
    public async Task The_same_dedupe_key_is_sent_once_also_by_a_second_instance()
    {
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
        await using var first = await InstanceAsync();
        await using var second = await InstanceAsync();
        var alert = NewAlert(dedupeKey: "rotation.shifted/openai-main/r1#10?%"); // characters a RowKey refuses

        await first.Sink.PublishAsync(alert, CancellationToken.None);
        await first.Sink.PublishAsync(alert, CancellationToken.None);
        await second.Sink.PublishAsync(alert with { Time = alert.Time.AddMinutes(1) }, CancellationToken.None);

        Assert.Equal(alert.DedupeKey, Assert.Single(_webhook.Posts).GetProperty("dedupeKey").GetString());
    }

    [Fact]
    public async Task Without_a_webhook_secret_the_alert_is_one_warning_log_line()
    {
        await using var instance = await InstanceAsync();
        var alert = NewAlert("rotation.failed");

        await instance.Sink.PublishAsync(alert, CancellationToken.None);
        await instance.Sink.PublishAsync(alert, CancellationToken.None);

        var line = Assert.Single(instance.Logs.Lines, l => l.Contains("Alert rotation.failed"));
        Assert.StartsWith("Warning", line);
        Assert.All(new[] { "Kind=rotation.failed", "Subject=openai-main", "Message=Rotation started (canary)" }, value => Assert.Contains(value, line));
        Assert.Empty(_webhook.Posts);
    }

    [Fact]
    public async Task A_webhook_down_is_a_warning_without_its_url_and_the_alert_is_sent_when_it_is_back()
    {
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
        await using var instance = await InstanceAsync();
        var alert = NewAlert("rotation.rolled_back");
        _webhook.Down = true;

        await instance.Sink.PublishAsync(alert, CancellationToken.None); // does not throw

        Assert.Empty(_webhook.Posts);
        var warning = Assert.Single(instance.Logs.Lines, l => l.Contains("could not be sent"));
        Assert.StartsWith("Warning", warning);
        Assert.Contains("status 503", warning);
        Assert.Equal(false, (await AlertRowAsync(instance, alert)).GetBoolean("Sent")); // recorded, unsent

        _webhook.Down = false;
        await instance.Sink.PublishAsync(alert, CancellationToken.None);
        await instance.Sink.PublishAsync(alert, CancellationToken.None);

        Assert.Equal(alert.DedupeKey, Assert.Single(_webhook.Posts).GetProperty("dedupeKey").GetString());
        Assert.Equal(true, (await AlertRowAsync(instance, alert)).GetBoolean("Sent"));
        AssertNoWebhookUrlIn(instance, _webhook.Url);
    }

    [Fact]
    public async Task An_unreachable_webhook_is_a_warning_without_its_url()
    {
        var url = new Uri($"http://127.0.0.1:{ClosedPort()}/hooks/{_webhook.Token}");
        _vault.SetSecretDirect(_webhookSecret, url.ToString());
        await using var instance = await InstanceAsync();

        await instance.Sink.PublishAsync(NewAlert(), CancellationToken.None);

        Assert.StartsWith("Warning", Assert.Single(instance.Logs.Lines, l => l.Contains("could not be sent")));
        AssertNoWebhookUrlIn(instance, url);
    }

    /// <summary>
    /// A publisher that claimed the alert and died before sending it: a second publish while its claim is fresh sends
    /// nothing (it may still be sending), one after <see cref="AlertOptions.ClaimTimeout"/> sends it, once.
    /// </summary>
    [Fact]
    public async Task An_alert_claimed_by_a_publisher_that_died_before_sending_is_sent_after_its_claim_expires()
    {
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var crashed = await InstanceAsync(time);
        await using var next = await InstanceAsync(time);
        var alert = NewAlert("rotation.succeeded");
        Assert.NotNull(await crashed.Ledger.TryClaimAsync(alert, CancellationToken.None)); // then no send, no mark

        await next.Sink.PublishAsync(alert, CancellationToken.None);
        Assert.Empty(_webhook.Posts);

        time.Advance(new AlertOptions().ClaimTimeout + TimeSpan.FromSeconds(1));
        await next.Sink.PublishAsync(alert, CancellationToken.None);
        await crashed.Sink.PublishAsync(alert, CancellationToken.None);

        Assert.Single(_webhook.Posts);
    }

    [Fact]
    public async Task With_the_alerts_table_unreachable_the_alert_is_still_sent_and_the_failure_logged()
    {
        _vault.SetSecretDirect(_webhookSecret, _webhook.Url.ToString());
        await using var instance = await AlertsInstance.StartAsync(_vault, _prefix, _webhookSecret,
            storageConnectionString: AzuriteInstance.ConnectionStringFor(ClosedPort()));

        await instance.Sink.PublishAsync(NewAlert("rotation.failed"), CancellationToken.None);

        Assert.Equal("rotation.failed", Assert.Single(_webhook.Posts).GetProperty("kind").GetString());
        Assert.StartsWith("Warning", Assert.Single(instance.Logs.Lines, l => l.Contains("alerts table is unavailable")));
    }

    private static async Task<TableEntity> AlertRowAsync(AlertsInstance instance, Alert alert)
    {
        var table = await instance.Tables.GetTableAsync(TableNames.Alerts);
        return (await table.GetEntityAsync<TableEntity>(AlertRow.Partition, AlertRow.RowKeyOf(alert.DedupeKey))).Value;
    }

    private static void AssertNoWebhookUrlIn(AlertsInstance instance, Uri url)
    {
        Assert.NotEmpty(instance.Logs.Lines);
        // The token in the path is the secret part; Polly's retry lines name the host and port it could not reach.
        Assert.DoesNotContain(url.AbsolutePath.Split('/')[^1], instance.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain(url.AbsolutePath, instance.Logs.AllText, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
