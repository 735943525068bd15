using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.ProviderKeys;
using System.Net;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>Every strategy run to its end, step by step, with the invariants checked after each step.</summary>
public class RotationStrategyTests
{
    [Theory]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.BlueGreen)]
    [InlineData(RotationStrategy.Immediate)]
    public async Task A_connector_that_creates_keys_rotates_to_a_new_version_and_revokes_the_old_one(RotationStrategy strategy)
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);

        var rotation = await host.StartRotationAsync(name, strategy);
        Assert.Equal(RotationStatus.Succeeded, await host.DriveAsync(rotation));

        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var versions = await host.VersionsAsync(name);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Active, versions[record.NewVersion!].State);
        Assert.Equal(SecretVersionState.Revoked, versions[old].State);
        Assert.False(versions[old].Enabled);
        Assert.Equal(1, host.Connector.Creates[name]);
        Assert.Equal(1, host.Connector.Revokes[name]);
        Assert.Null(await host.Store.GetUnfinishedAsync(name));
        var kinds = host.Alerts.For(name).Select(a => a.Kind).ToList();
        Assert.True(kinds[^1] == "rotation.succeeded", string.Join(" ", host.Alerts.For(name).Select(a => $"{a.Kind}@{a.Time:HH:mm:ss.fff}/{a.DedupeKey}")));
        Assert.Equal("rotation.started", kinds[0]);
        Assert.Equal("rotation.succeeded", kinds[^1]);
        Assert.Equal(strategy == RotationStrategy.Canary ? 6 : 1, kinds.Count(k => k == "rotation.shifted"));
        Assert.All(host.Alerts.For(name), a => Assert.DoesNotContain("fake-", a.Message));
    }

    [Fact]
    public async Task Canary_moves_the_weights_through_1_5_10_25_50_100_percent_and_waits_the_grace_before_revoking()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);
        var seen = new List<int>();
        var started = host.Time.GetUtcNow();
        DateTimeOffset? revokedAt = null, fullAt = null;

        await host.DriveAsync(rotation, afterStep: async (_, _) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (record.NewVersion is { } version && (await host.Registry.GetAsync(name))!.Weights.GetValueOrDefault(version) is var w and > 0 && (seen.Count == 0 || seen[^1] != w))
            {
                seen.Add(w);
                if (w == 100)
                    fullAt = host.Time.GetUtcNow();
            }
            if (revokedAt is null && host.Connector.Revokes.ContainsKey(name))
                revokedAt = host.Time.GetUtcNow();
        });

        Assert.Equal([1, 5, 10, 25, 50, 100], seen);
        var grace = ((FuncKeyOps.Rotation.RotationService)host.Services.GetService(typeof(FuncKeyOps.Rotation.RotationService))!).Grace;
        Assert.True(revokedAt - fullAt >= grace, $"revoked {revokedAt - fullAt} after 100 %, grace {grace}");
        Assert.True(host.Time.GetUtcNow() - started >= 6 * FuncKeyOps.Rotation.RotationPlans.DefaultHold);
    }

    [Theory]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.BlueGreen)]
    [InlineData(RotationStrategy.Immediate)]
    public async Task The_manual_connector_waits_for_a_staged_value_then_disables_the_old_version_and_alerts_to_revoke_it_by_hand(RotationStrategy strategy)
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync(connector: "manual");
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var staged = "fake-staged-" + Guid.NewGuid().ToString("N");
        host.Relay.OpenAI.AcceptKey(staged);
        var rotation = await host.StartRotationAsync(name, strategy);
        var polls = 0;

        var status = await host.DriveAsync(rotation, onWait: async index =>
        {
            if (++polls == 2) // one poll finds nothing, the next finds the value the operator staged meanwhile
                await ProviderKeyCalls.StageAsync(host.Relay, name, staged);
        });

        Assert.Equal(RotationStatus.Succeeded, status);
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var versions = await host.VersionsAsync(name);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal((SecretVersionState.Revoked, false), (versions[old].State, versions[old].Enabled));
        var manual = Assert.Single(host.Alerts.For(name), a => a.Kind == "rotation.revoke_manually");
        Assert.Equal(old, manual.Details!["version"]);
        Assert.Equal($"{rotation.Id}/{record.Plan.Steps.Count - 2}/rotation.revoke_manually", manual.DedupeKey);
    }

    [Fact]
    public async Task The_manual_connector_fails_with_an_alert_when_no_value_is_staged_in_time()
    {
        await using var host = await RotationHost.StartAsync(new Dictionary<string, string?> { ["Rotation:StagedValueTimeout"] = "01:00:00", ["Rotation:RecheckInterval"] = "00:10:00" });
        var name = await host.RegisterKeyAsync(connector: "manual");
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Immediate);

        Assert.Equal(RotationStatus.Failed, await host.DriveAsync(rotation));

        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Single(host.Alerts.For(name), a => a.Kind == "rotation.failed");
        Assert.Null(await host.Store.GetUnfinishedAsync(name));
    }

    [Theory]
    [InlineData("fake")]
    [InlineData("manual")]
    public async Task Emergency_revokes_the_compromised_key_first_records_the_window_without_a_key_then_serves_the_successor(string connector)
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync(connector);
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var staged = "fake-staged-" + Guid.NewGuid().ToString("N");
        host.Relay.OpenAI.AcceptKey(staged);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Emergency);
        var oldRevokedBeforeCreate = false;

        var status = await host.DriveAsync(rotation, onWait: _ => ProviderKeyCalls.StageAsync(host.Relay, name, staged), afterStep: async (index, _) =>
        {
            if (index == 0)
            {
                var versions = await host.VersionsAsync(name);
                oldRevokedBeforeCreate = versions[old].State == SecretVersionState.Revoked && versions.Count == 1;
                Assert.All((await host.Registry.GetAsync(name))!.Weights.Values, w => Assert.Equal(0, w));
            }
        });

        Assert.Equal(RotationStatus.Succeeded, status);
        Assert.True(oldRevokedBeforeCreate);
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.NotNull(record.WindowStart);
        Assert.True(record.WindowEnd >= record.WindowStart);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        if (connector == "fake")
            Assert.Equal((1, 1), (host.Connector.Creates[name], host.Connector.Revokes[name]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Emergency_takes_the_compromised_version_out_of_service_even_when_the_provider_will_not_revoke_it(bool transient)
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        host.Connector.FailRevokes = new ConnectorRevocation(ConnectorRevokeOutcome.Failed, "status 401", transient);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Emergency);

        // Contain first: whatever the provider answers, the compromised version serves nothing after the first step.
        var first = await host.Runner.RunStepAsync(rotation, 0, CancellationToken.None);
        Assert.All((await host.Registry.GetAsync(name))!.Weights.Values, w => Assert.Equal(0, w));
        var versions = await host.VersionsAsync(name);
        if (transient)
        {
            // Asked again later; it still serves nothing meanwhile.
            Assert.Equal(0, first.NextIndex);
            Assert.NotEqual(SecretVersionState.Revoked, versions[old].State);
            host.Connector.FailRevokes = null;
        }
        else
        {
            // Refused for good: disabled in the vault and an operator told to delete the key at the provider.
            Assert.Equal(SecretVersionState.Revoked, versions[old].State);
            Assert.False(versions[old].Enabled);
            Assert.Contains(host.Alerts.For(name), a => a.Kind == RotationAlerts.RevokeManually);
        }

        Assert.Equal(RotationStatus.Succeeded, await host.DriveAsync(rotation));
        Assert.Equal(SecretVersionState.Revoked, (await host.VersionsAsync(name))[old].State);
    }

    [Fact]
    public async Task While_the_provider_has_not_revoked_the_compromised_key_the_relay_serves_nothing_with_it()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var (_, relayKey) = await host.Relay.CreateRelayKeyAsync();
        using (var before = await host.Relay.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        host.Connector.FailRevokes = new ConnectorRevocation(ConnectorRevokeOutcome.Failed, "status 503", Transient: true);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Emergency);

        // Contained, the revoke to be asked again: the compromised version is still the latest and still tagged active
        // in the vault, and its zero weight alone must keep it from serving.
        Assert.Equal(0, (await host.Runner.RunStepAsync(rotation, 0, CancellationToken.None)).NextIndex);
        using var during = await host.Relay.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.Contains("no_active_provider_key", await during.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_new_key_the_provider_refuses_fails_the_rotation_is_revoked_and_leaves_the_weights_alone()
    {
        await using var host = await RotationHost.StartAsync();
        host.Connector.MakeBadKeys = true;
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);

        Assert.Equal(RotationStatus.Failed, await host.DriveAsync(rotation));

        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var versions = await host.VersionsAsync(name);
        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Active, versions[old].State);
        Assert.Equal(SecretVersionState.Revoked, versions[record.NewVersion!].State);
        Assert.Equal(1, host.Connector.Revokes[name]); // the new key, at the provider
        Assert.Single(host.Alerts.For(name), a => a.Kind == "rotation.failed");
    }
}
