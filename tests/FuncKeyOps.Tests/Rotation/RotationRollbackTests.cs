using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using System.Net;

namespace FuncKeyOps.Tests.Rotation;

public class RotationRollbackTests
{
    /// <summary>
    /// The provider starts refusing the new key at the 10 % step: the relay's calls on it fail (audited), the analysis
    /// after the hold reads the audit rows, and the plan rolls back: weights to the old version, the new one revoked.
    /// </summary>
    [Fact]
    public async Task Errors_on_the_new_version_at_10_percent_roll_back_to_the_old_version_revoke_the_new_one_and_alert()
    {
        await using var host = await RotationHost.StartAsync(new Dictionary<string, string?> { ["Rotation:AnalysisMinRequests"] = "5" });
        var name = await host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var (_, relayKey) = await host.Relay.CreateRelayKeyAsync();
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);
        var sentToNew = 0;

        var status = await host.DriveAsync(rotation, afterStep: async (_, result) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (record.NewVersion is not { } version || (await host.Registry.GetAsync(name))!.Weights.GetValueOrDefault(version) != 10
                || record.Plan.Steps[record.StepIndex].Kind != RotationStepKind.Analyze || sentToNew > 0)
                return;
            sentToNew = await host.RefuseNewKeyUnderTrafficAsync(rotation, relayKey, calls: 6);
        });

        Assert.Equal(RotationStatus.RolledBack, status);
        Assert.True(sentToNew >= 5, $"only {sentToNew} calls went to the new version");
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        var versions = await host.VersionsAsync(name);
        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal((SecretVersionState.Active, true), (versions[old].State, versions[old].Enabled));
        Assert.Equal((SecretVersionState.Revoked, false), (versions[record.NewVersion!].State, versions[record.NewVersion!].Enabled));
        Assert.Equal(1, host.Connector.Revokes[name]); // the new key only
        Assert.Contains(record.History, h => h.Step == "analyze" && h.NextIndex == record.Plan.RollbackIndex);
        var alert = Assert.Single(host.Alerts.For(name), a => a.Kind == "rotation.rolled_back");
        Assert.Equal($"{rotation.Id}/{record.Plan.RollbackIndex}/rotation.rolled_back", alert.DedupeKey);
        using var after = await host.Relay.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task An_abort_during_a_canary_hold_rolls_back_on_the_next_step_run_and_ends_aborted()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Canary);
        var service = (RotationService)host.Services.GetService(typeof(RotationService))!;

        var status = await host.DriveAsync(rotation, afterStep: async (index, result) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (record.History[^1].Step == "shift 5%" && !record.AbortRequested)
                Assert.Equal(AbortOutcome.Requested, (await service.AbortAsync(rotation, CancellationToken.None)).Outcome);
        });

        Assert.Equal(RotationStatus.Aborted, status);
        var final = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.Equal("rollback", final.History[^1].Step);
        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Revoked, (await host.VersionsAsync(name))[final.NewVersion!].State);
        Assert.Single(host.Alerts.For(name), a => a.Kind == "rotation.aborted");
        Assert.Contains(rotation, host.Driver.Signalled);
        Assert.Equal(AbortOutcome.AlreadyFinal, (await service.AbortAsync(rotation, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task An_abort_of_an_emergency_after_containment_only_stops_it()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync(connector: "manual");
        var old = Assert.Single((await host.Registry.GetAsync(name))!.Weights.Keys);
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Emergency);
        var service = (RotationService)host.Services.GetService(typeof(RotationService))!;

        var status = await host.DriveAsync(rotation, onWait: async _ => await service.AbortAsync(rotation, CancellationToken.None));

        Assert.Equal(RotationStatus.Aborted, status);
        var versions = await host.VersionsAsync(name);
        Assert.Equal(SecretVersionState.Revoked, versions[old].State);
        Assert.Equal(0, (await host.Registry.GetAsync(name))!.Weights.GetValueOrDefault(old));
        Assert.NotNull((await host.Store.GetAsync(rotation.KeyName, rotation.Id))!.WindowStart);
    }

    [Fact]
    public async Task An_abort_once_the_old_versions_grace_is_over_stops_without_going_back_to_it()
    {
        await using var host = await RotationHost.StartAsync();
        var name = await host.RegisterKeyAsync();
        var rotation = await host.StartRotationAsync(name, RotationStrategy.Immediate);
        var service = (RotationService)host.Services.GetService(typeof(RotationService))!;

        var status = await host.DriveAsync(rotation, afterStep: async (_, _) =>
        {
            var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
            if (record.History[^1].Step == "shift 100%" && !record.AbortRequested)
                await service.AbortAsync(rotation, CancellationToken.None); // the driver then waits the grace out
        });

        Assert.Equal(RotationStatus.Aborted, status);
        var final = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.Equal(new Dictionary<string, int> { [final.NewVersion!] = 100 }, (await host.Registry.GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Active, (await host.VersionsAsync(name))[final.NewVersion!].State);
        Assert.False(host.Connector.Revokes.ContainsKey(name));
    }
}
