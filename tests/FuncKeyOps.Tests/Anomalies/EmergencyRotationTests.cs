using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Rotation;
using static FuncKeyOps.Tests.Anomalies.FindingParts;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>The emergency rotation a finding starts, when the version it names is already out of service.</summary>
public class EmergencyRotationTests
{
    /// <summary>
    /// The relay's last calls on a version an emergency rotation has just contained are refused by the provider, and the
    /// next sweep raises <c>provider_key_rejected</c> on that version (found by <see cref="ShadowUsageServerTests"/>):
    /// rotating the key again would revoke its new version, which no one leaked.
    /// </summary>
    [Theory]
    [InlineData(Detectors.ProviderKeyRejected)]
    [InlineData(Detectors.ShadowUsage)]
    public async Task A_finding_on_a_version_a_rotation_already_replaced_rotates_nothing_and_is_still_alerted(string detector)
    {
        await using var host = await RotationHost.StartAsync();
        var keyName = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(keyName))!.Weights.Keys);
        var earlier = await host.StartRotationAsync(keyName, RotationStrategy.Emergency);
        Assert.Equal(RotationStatus.Succeeded, await host.DriveAsync(earlier));
        var weights = (await host.Registry.GetAsync(keyName))!.Weights;
        var finding = NewFinding(detector, FindingSubject.ProviderKey(keyName, old), FindingSeverity.High, host.Time.GetUtcNow());

        var responded = await Responder(host.Services).RespondAsync(finding, CancellationToken.None);

        Assert.Equal((FindingAction.Rotate, FindingActionState.Skipped, true), (responded.Action, responded.ActionState, responded.Alerted));
        Assert.Contains("nothing was rotated", responded.ActionOutcome, StringComparison.Ordinal);
        Assert.Equal(0, await RotationsStartedForAsync(host.Services, keyName, finding.Id));
        Assert.Null(await host.Store.GetUnfinishedAsync(keyName));
        Assert.Equal(weights, (await host.Registry.GetAsync(keyName))!.Weights);
        Assert.Single(host.Alerts.For(finding.Subject));

        // The version serving now is still rotated for a finding on it.
        var current = Assert.Single(weights, w => w.Value > 0).Key;
        var onCurrent = NewFinding(detector, FindingSubject.ProviderKey(keyName, current), FindingSeverity.High, host.Time.GetUtcNow());
        Assert.Equal(FindingActionState.Taken, (await Responder(host.Services).RespondAsync(onCurrent, CancellationToken.None)).ActionState);
        Assert.Equal(1, await RotationsStartedForAsync(host.Services, keyName, onCurrent.Id));
    }
}
