using System.Globalization;
using System.Net;
using System.Text.Json;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Rotation.Connectors;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// Shadow usage end to end through the Server host: a provider key's value, read from the vault, used straight at the
/// fake provider; once the hour has settled (the fake clock moved), <c>POST sweeps/run</c> finds it: one finding naming
/// the version and the gap, one alert at the webhook, an emergency rotation (trigger <c>anomaly</c>, the finding id as
/// its reason) run by the host's own driver, while clients of the relay with the provider's official SDK see no call
/// fail and end on the new version.
/// </summary>
public class ShadowUsageServerTests
{
    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task A_key_used_straight_at_the_provider_is_found_alerted_once_and_rotated_while_relay_clients_see_no_failure(string provider)
    {
        await using var drill = await LeakDrill.StartAsync();
        var key = await drill.AddKeyAsync(provider);
        FakeProvider fake = provider == "anthropic" ? drill.Relay.Anthropic : drill.Relay.OpenAI;
        // Anthropic's report counts no requests: the gap is judged on tokens, over the 20,000 floor.
        if (provider == "anthropic")
            fake.Usage = new FakeUsage(InputTokens: 5_000, OutputTokens: 1_000);
        var calls = provider == "anthropic" ? 4 : 30;
        var leakedAt = drill.Host.Time.GetUtcNow();
        await drill.CallDirectAsync(key, calls);
        fake.Usage = new FakeUsage(); // the relay's clients below are billed the defaults: no token volume finding of their own
        var hour = new DateTimeOffset(leakedAt.Year, leakedAt.Month, leakedAt.Day, leakedAt.Hour, 0, 0, TimeSpan.Zero);
        // Past the hour's end plus the 2 h settle: the first sweep of the key judges that hour.
        drill.Host.Time.Advance(hour + TimeSpan.FromHours(3) + TimeSpan.FromMinutes(5) - leakedAt);

        await using var callers = drill.StartCallers(key);
        await callers.AnsweredMoreAsync(5);
        var (run, runBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");
        Assert.True(run.StatusCode == HttpStatusCode.OK, $"{run.StatusCode}: {runBody}");
        Assert.Empty(runBody.GetProperty("warnings").EnumerateArray());

        // One finding, naming the version, the provider's id of the key and the gap.
        var (list, listBody) = await drill.AdminAsync(HttpMethod.Get, $"findings?from={Iso(hour)}&to={Iso(drill.Host.Time.GetUtcNow())}");
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var finding = Assert.Single(listBody.GetProperty("items").EnumerateArray());
        var id = finding.GetProperty("id").GetString()!;
        Assert.Equal(FindingId.For(Detectors.ShadowUsage, key.Subject, hour), id);
        Assert.Equal((Detectors.ShadowUsage, key.Subject, hour), (finding.GetProperty("detector").GetString(), finding.GetProperty("subject").GetString(),
            finding.GetProperty("windowStart").GetDateTimeOffset()));
        var details = finding.GetProperty("details");
        var tokens = (calls * (provider == "anthropic" ? 6_000 : 18)).ToString(CultureInfo.InvariantCulture);
        Assert.Equal((provider == "anthropic" ? "not reported" : "30", "0", tokens, key.ProviderKeyId),
            (details.GetProperty("providerRequests").GetString(), details.GetProperty("relayCalls").GetString(), details.GetProperty("gapTokens").GetString(),
             details.GetProperty("providerKeyId").GetString()));
        Assert.Equal(("rotate", "taken"), (finding.GetProperty("action").GetString(), finding.GetProperty("actionState").GetString()));

        // An emergency rotation of the key, started by the finding, seen through the rotation API.
        var rotationId = RotationIdOf(finding.GetProperty("actionOutcome").GetString()!);
        var rotation = new RotationId(key.Config.Name, rotationId);
        var (status, statusBody) = await drill.AdminAsync(HttpMethod.Get, $"rotations/{key.Config.Name}/{rotationId}");
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal(("emergency", EmergencyRotation.Trigger, id, key.Version),
            (statusBody.GetProperty("strategy").GetString(), statusBody.GetProperty("trigger").GetString(), statusBody.GetProperty("reason").GetString(),
             statusBody.GetProperty("oldVersion").GetString()));

        // Anthropic makes no keys through its API: the operator stages the successor made in the Console while the rotation waits.
        string? staged = null;
        if (provider == "anthropic")
        {
            await ServerRotationClockWaitAsync(drill, rotation);
            staged = "fake-anthropic-" + Guid.NewGuid().ToString("N");
            drill.Relay.Anthropic.Admin.AddKey(staged, "successor");
            await FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls.StageAsync(drill.Relay, key.Config.Name, staged);
        }
        var record = await drill.DriveToEndAsync(rotation);
        Assert.True(record.Status == RotationStatus.Succeeded, $"{record.Status}: {string.Join("; ", record.History.Select(h => $"{h.Step}: {h.Result}"))}");

        // The relay's clients: answered during and after, none failed, the last ones on the new version.
        var newValue = (await drill.Host.Secrets.GetAsync(key.Config.SecretName, record.NewVersion!)).Value;
        if (staged is not null)
            Assert.Equal(staged, newValue);
        var sentBefore = fake.Requests.Count;
        await callers.AnsweredMoreAsync(10);
        await callers.StopAsync();
        Assert.Empty(callers.Failures);
        var served = fake.Requests.Skip(sentBefore).Select(r => r.Headers.GetValueOrDefault(provider == "anthropic" ? "x-api-key" : "Authorization")).ToList();
        Assert.NotEmpty(served);
        Assert.All(served, k => Assert.EndsWith(newValue, k, StringComparison.Ordinal));
        // The leaked value no longer works at the provider.
        Assert.Equal(HttpStatusCode.Unauthorized, await drill.DirectStatusAsync(key));

        // One alert for the finding, at the webhook, naming the rotation; no secret in it.
        await drill.Webhook.ReceivedAsync(FindingAlerts.KindPrefix + Detectors.ShadowUsage).WaitAsync(LeakDrill.Signal);
        var alert = Assert.Single(drill.Webhook.Posts, p => p.GetProperty("kind").GetString() == FindingAlerts.KindPrefix + Detectors.ShadowUsage);
        Assert.Equal(key.Subject, alert.GetProperty("subject").GetString());
        ConnectorHarness.AssertNoPartOf(key.Value, string.Join("\n", drill.Webhook.Posts.Select(p => p.GetRawText())) + listBody.GetRawText());

        // Swept again: no second rotation. The relay's last attempts on the version being contained were refused by the
        // provider (the rotation had revoked it there): provider_key_rejected on the old version, which rotates nothing.
        var (again, againBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var (all, allBody) = await drill.AdminAsync(HttpMethod.Get, $"findings?from={Iso(hour)}&to={Iso(drill.Host.Time.GetUtcNow())}");
        Assert.All(allBody.GetProperty("items").EnumerateArray().Where(f => f.GetProperty("id").GetString() != id), f =>
        {
            Assert.True((f.GetProperty("detector").GetString(), f.GetProperty("subject").GetString(), f.GetProperty("actionState").GetString())
                == (Detectors.ProviderKeyRejected, key.Subject, "skipped"), f.GetRawText());
            Assert.Contains("nothing was rotated", f.GetProperty("actionOutcome").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal(1, await FindingParts.RotationsStartedForAsync(drill.Host.Services, key.Config.Name, id));
        Assert.Null(await drill.Host.Store.GetUnfinishedAsync(key.Config.Name));
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await drill.Host.Registry.GetAsync(key.Config.Name))!.Weights.Where(w => w.Value > 0));
        Assert.Single(drill.Webhook.Posts, p => p.GetProperty("kind").GetString() == FindingAlerts.KindPrefix + Detectors.ShadowUsage);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task The_same_traffic_sent_through_the_relay_raises_nothing(string provider)
    {
        await using var drill = await LeakDrill.StartAsync();
        var key = await drill.AddKeyAsync(provider, pooled: false);
        FakeProvider fake = provider == "anthropic" ? drill.Relay.Anthropic : drill.Relay.OpenAI;
        if (provider == "anthropic")
            fake.Usage = new FakeUsage(InputTokens: 5_000, OutputTokens: 1_000);
        var sentAt = drill.Host.Time.GetUtcNow();
        var sentBefore = fake.Requests.Count;
        if (provider == "anthropic")
        {
            using var anthropic = RelaySdks.Anthropic(drill.Relay, key.RelaySecret);
            for (var i = 0; i < 4; i++)
                Assert.NotEmpty((await anthropic.Messages.Create(RelaySdks.AnthropicMessage())).Content);
        }
        else
        {
            var chat = RelaySdks.OpenAIChat(drill.Relay, key.RelaySecret, retry: false);
            for (var i = 0; i < 30; i++)
                Assert.NotEmpty((await chat.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
        }
        // The relay's rows stored, and the provider billed the same calls to the key (the same traffic as the leak's).
        await drill.Relay.Server.WaitIdleAsync().WaitAsync(LeakDrill.Signal);
        await drill.Relay.Services.GetRequiredService<AuditWriter>().FlushAsync(CancellationToken.None);
        Assert.Equal(provider == "anthropic" ? 4 : 30, fake.Requests.Count - sentBefore);
        var hour = new DateTimeOffset(sentAt.Year, sentAt.Month, sentAt.Day, sentAt.Hour, 0, 0, TimeSpan.Zero);
        drill.Host.Time.Advance(hour + TimeSpan.FromHours(3) + TimeSpan.FromMinutes(5) - sentAt);

        var (run, runBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");

        Assert.True(run.StatusCode == HttpStatusCode.OK, $"{run.StatusCode}: {runBody}");
        Assert.Empty(runBody.GetProperty("warnings").EnumerateArray());
        Assert.Equal(0, runBody.GetProperty("findings").GetInt32());
        var (_, listBody) = await drill.AdminAsync(HttpMethod.Get, $"findings?from={Iso(hour)}&to={Iso(drill.Host.Time.GetUtcNow())}");
        Assert.Empty(listBody.GetProperty("items").EnumerateArray());
        Assert.Contains(fake.Requests, r => r.Path.Contains("usage", StringComparison.Ordinal)); // the report was read: the hour was judged
        Assert.Empty(drill.Webhook.Posts);
    }

    [Fact]
    public async Task A_usage_API_answering_500_leaves_the_sweep_healthy_with_a_warning_and_the_next_run_finds_the_use()
    {
        await using var drill = await LeakDrill.StartAsync();
        var key = await drill.AddKeyAsync("openai");
        var leakedAt = drill.Host.Time.GetUtcNow();
        await drill.CallDirectAsync(key, 30);
        var hour = new DateTimeOffset(leakedAt.Year, leakedAt.Month, leakedAt.Day, leakedAt.Hour, 0, 0, TimeSpan.Zero);
        drill.Host.Time.Advance(hour + TimeSpan.FromHours(3) + TimeSpan.FromMinutes(5) - leakedAt);
        drill.Relay.OpenAI.Billing.FailReports(500);

        var (run, runBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");

        Assert.True(run.StatusCode == HttpStatusCode.OK, $"{run.StatusCode}: {runBody}");
        Assert.Equal(("swept", 0), (runBody.GetProperty("outcome").GetString(), runBody.GetProperty("findings").GetInt32()));
        var (sweeps, sweepsBody) = await drill.AdminAsync(HttpMethod.Get, "sweeps");
        Assert.Equal(HttpStatusCode.OK, sweeps.StatusCode);
        var warning = Assert.Single(sweepsBody.GetProperty("warnings").EnumerateArray()).GetString()!;
        Assert.StartsWith(Detectors.ShadowUsage + ": ", warning, StringComparison.Ordinal);
        Assert.Contains(key.Config.Name, warning, StringComparison.Ordinal);
        Assert.Contains("500", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", warning, StringComparison.Ordinal); // a soft warning, not a failed check or run
        Assert.Equal(JsonValueKind.Null, sweepsBody.GetProperty("lease").ValueKind);
        Assert.Equal(0, sweepsBody.GetProperty("lastRun").GetProperty("findings").GetInt32());
        Assert.Empty(drill.Webhook.Posts);

        // The API answers again: the next run judges the hour and finds the use.
        drill.Relay.OpenAI.Billing.ReportsWork();
        var (next, nextBody) = await drill.AdminAsync(HttpMethod.Post, "sweeps/run");
        Assert.True(next.StatusCode == HttpStatusCode.OK, $"{next.StatusCode}: {nextBody}");
        Assert.Equal(1, nextBody.GetProperty("findings").GetInt32());
        Assert.Empty(nextBody.GetProperty("warnings").EnumerateArray());
        var (list, listBody) = await drill.AdminAsync(HttpMethod.Get, $"findings?detector={Detectors.ShadowUsage}&from={Iso(hour)}&to={Iso(drill.Host.Time.GetUtcNow())}");
        Assert.Equal(key.Subject, Assert.Single(listBody.GetProperty("items").EnumerateArray()).GetProperty("subject").GetString());
    }

    /// <summary>Moves the clock until the rotation waits for an operator's staged value.</summary>
    private static Task ServerRotationClockWaitAsync(LeakDrill drill, RotationId rotation) =>
        FuncKeyOps.Tests.Rotation.Server.ServerRotationClock.AdvanceUntilAsync(drill.Host, drill.Host.ServerDriver,
            async () => (await drill.Host.Store.GetAsync(rotation.KeyName, rotation.Id))!.WaitingFor is not null);

    internal static string RotationIdOf(string outcome)
    {
        // "Emergency rotation {id} of provider key {name} started."
        var parts = outcome.Split(' ');
        Assert.True(parts.Length > 2 && parts[0] == "Emergency", outcome);
        return parts[2];
    }

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));
}
