using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Actions;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Rotation;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.Anomalies.FindingParts;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// Responding to findings through the real parts (the Server host on Azurite, the test vault, the fake providers, the
/// rotation engine with a driver the test holds, a fake clock): stored once, acted once, alerted once, whatever is
/// repeated or cut short, and nothing done in observe mode.
/// </summary>
public class FindingResponderTests
{
    [Fact]
    public async Task The_same_finding_responded_twice_is_stored_once_alerted_once_and_its_key_suspended_once()
    {
        await using var host = await RotationHost.StartAsync();
        var (key, _) = await host.Relay.CreateRelayKeyAsync();
        var finding = NewFinding(Detectors.NewSource, FindingSubject.RelayKey(key.Id), FindingSeverity.High, host.Time.GetUtcNow());
        var responder = Responder(host.Services);

        var first = await responder.RespondAsync(finding, CancellationToken.None);
        var second = await responder.RespondAsync(finding with { Observed = 900, FoundAt = finding.FoundAt.AddMinutes(5) }, CancellationToken.None);
        await responder.RetryPendingAsync(CancellationToken.None);

        Assert.Equal((FindingAction.Suspend, FindingActionState.Taken, true), (first.Action, first.ActionState, first.Alerted));
        Assert.Equal(first, second); // the stored one stands: a window swept again changes nothing
        Assert.Equal(1, await StoredCopiesAsync(host.Services, finding.Id));
        Assert.Equal(RelayKeyStatus.Suspended, (await host.Services.GetRequiredService<RelayKeyService>().GetAsync(key.Id))!.Status);
        var alert = Assert.Single(host.Alerts.For(finding.Subject));
        Assert.Equal(("anomaly.new_source", finding.Id), (alert.Kind, alert.DedupeKey));
        Assert.Contains("suspended", alert.Message, StringComparison.Ordinal);
        Assert.Equal(["POST findings/{id}/alert 202 -", "POST relay-keys/{id}/suspend 200 -"], await SweepTrailAsync(host.Services, finding, key.Id));
        Assert.Equal(1, first.ActionAttempts);
    }

    public static TheoryData<FindingAction> Actions => new() { FindingAction.Suspend, FindingAction.Rotate, FindingAction.Alert };

    /// <summary>
    /// A crash after each write the response makes (the responder's write hook throws there once), then the next
    /// sweep's retry (after the crashed attempt's claim ran out) and a second respond: the end state of an uninterrupted
    /// response, with the key suspended or rotated once, one alert and one trail row per action.
    /// </summary>
    [Theory]
    [MemberData(nameof(Actions))]
    public async Task A_crash_after_any_write_then_a_retry_ends_as_an_uninterrupted_response_with_each_action_once(FindingAction action)
    {
        await using var host = await RotationHost.StartAsync();
        var responder = Responder(host.Services);
        var writes = new List<string>();
        var baseline = await NewSubjectAsync(host, action);
        responder.AfterWrite = (id, write) =>
        {
            if (id == baseline.Finding.Id)
                writes.Add(write);
        };
        await responder.RespondAsync(baseline.Finding, CancellationToken.None);
        var expected = await EndStateAsync(host, baseline);
        string[] expectedWrites = action == FindingAction.Alert
            ? ["stored", "claim", "outcome", "alert trail", "alerted"]
            : ["stored", "claim", "trail", "outcome", "alert trail", "alerted"];
        Assert.Equal(expectedWrites, writes);

        for (var crashAt = 0; crashAt < writes.Count; crashAt++)
        {
            var subject = await NewSubjectAsync(host, action);
            var seen = 0;
            string? crashedAfter = null;
            var at = crashAt;
            responder.AfterWrite = (id, write) =>
            {
                if (id == subject.Finding.Id && crashedAfter is null && seen++ == at)
                {
                    crashedAfter = write;
                    throw new SimulatedCrash(write);
                }
            };

            await Assert.ThrowsAsync<SimulatedCrash>(() => responder.RespondAsync(subject.Finding, CancellationToken.None));
            host.Time.Advance(FindingResponder.ClaimTimeout);
            await responder.RetryPendingAsync(CancellationToken.None);
            await responder.RespondAsync(subject.Finding, CancellationToken.None);
            await responder.RetryPendingAsync(CancellationToken.None);

            Assert.Equal(writes[crashAt], crashedAfter);
            Assert.True(expected == await EndStateAsync(host, subject), $"crash after {crashedAfter}: {await EndStateAsync(host, subject)}, expected {expected}");
        }
    }

    [Fact]
    public async Task Observe_mode_records_what_would_have_been_done_and_does_nothing()
    {
        await using var host = await RotationHost.StartAsync(new Dictionary<string, string?> { ["Anomalies:Mode"] = "observe" });
        var (key, _) = await host.Relay.CreateRelayKeyAsync();
        var keyName = await host.RegisterKeyAsync();
        var now = host.Time.GetUtcNow();
        var leak = NewFinding(Detectors.NewSource, FindingSubject.RelayKey(key.Id), FindingSeverity.High, now);
        var shadow = NewFinding(Detectors.ShadowUsage, FindingSubject.ProviderKey(keyName, await VersionOfAsync(host, keyName)), FindingSeverity.Medium, now);
        var responder = Responder(host.Services);

        var suspended = await responder.RespondAsync(leak, CancellationToken.None);
        var rotated = await responder.RespondAsync(shadow, CancellationToken.None);
        host.Time.Advance(FindingResponder.ClaimTimeout);
        await responder.RetryPendingAsync(CancellationToken.None);

        Assert.Equal((FindingAction.Suspend, FindingActionState.Observed, false), (suspended.Action, suspended.ActionState, suspended.Alerted));
        Assert.Contains("would have suspended", suspended.ActionOutcome, StringComparison.Ordinal);
        Assert.Equal((FindingAction.Rotate, FindingActionState.Observed), (rotated.Action, rotated.ActionState));
        Assert.Contains("would have started an emergency rotation", rotated.ActionOutcome, StringComparison.Ordinal);
        Assert.Equal(suspended, (await Store(host.Services).GetAsync(leak.Id, CancellationToken.None))!.Finding);
        Assert.Equal(RelayKeyStatus.Active, (await host.Services.GetRequiredService<RelayKeyService>().GetAsync(key.Id))!.Status);
        Assert.Equal(0, await RotationsStartedForAsync(host.Services, keyName, shadow.Id));
        Assert.Empty(host.Driver.Scheduled);
        Assert.Empty(host.Alerts.Alerts);
        Assert.Empty(await SweepTrailAsync(host.Services, leak, key.Id));
        Assert.Empty(await SweepTrailAsync(host.Services, shadow, keyName));
    }

    [Fact]
    public async Task A_failed_rotation_start_is_recorded_alerted_and_started_once_by_the_next_retry()
    {
        FlakyRotationStarter? starter = null;
        await using var host = await RotationHost.StartAsync(configure: services =>
            services.AddSingleton<IRotationStarter>(sp => starter = new FlakyRotationStarter(sp.GetRequiredService<RotationService>()) { FailNext = 1 }));
        var keyName = await host.RegisterKeyAsync();
        var finding = NewFinding(Detectors.ProviderKeyRejected, FindingSubject.ProviderKey(keyName, await VersionOfAsync(host, keyName)), FindingSeverity.High,
            host.Time.GetUtcNow());
        var responder = Responder(host.Services);

        var failed = await responder.RespondAsync(finding, CancellationToken.None);

        Assert.Equal((FindingAction.Rotate, FindingActionState.Failed, true), (failed.Action, failed.ActionState, failed.Alerted));
        Assert.Contains("failed (RequestFailedException)", failed.ActionOutcome, StringComparison.Ordinal);
        Assert.Contains("failed", Assert.Single(host.Alerts.For(finding.Subject)).Message, StringComparison.Ordinal);
        Assert.Equal(0, await RotationsStartedForAsync(host.Services, keyName, finding.Id));

        await responder.RetryPendingAsync(CancellationToken.None);
        await responder.RetryPendingAsync(CancellationToken.None);
        await responder.RespondAsync(finding, CancellationToken.None);

        var taken = (await Store(host.Services).GetAsync(finding.Id, CancellationToken.None))!.Finding;
        Assert.Equal((FindingActionState.Taken, 2), (taken.ActionState, taken.ActionAttempts));
        Assert.StartsWith("Emergency rotation ", taken.ActionOutcome, StringComparison.Ordinal);
        Assert.Equal(1, await RotationsStartedForAsync(host.Services, keyName, finding.Id));
        Assert.Equal(2, starter!.Calls);
        var rotation = Assert.Single(host.Driver.Scheduled);
        var record = (await host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
        Assert.Equal((RotationStrategy.Emergency, "anomaly", finding.Id), (record.Strategy, record.Trigger, record.Reason));
        Assert.Single(host.Alerts.For(finding.Subject)); // the failure's alert was the one
        Assert.Equal(["POST findings/{id}/alert 202 -", "POST provider-keys/{name}/rotations 202 -"], await SweepTrailAsync(host.Services, finding, keyName));
    }

    [Fact]
    public async Task Responses_to_one_finding_at_once_start_one_rotation_and_send_one_alert()
    {
        FlakyRotationStarter? starter = null;
        await using var host = await RotationHost.StartAsync(configure: services =>
            services.AddSingleton<IRotationStarter>(sp => starter = new FlakyRotationStarter(sp.GetRequiredService<RotationService>())));
        var keyName = await host.RegisterKeyAsync();
        var finding = NewFinding(Detectors.RetiredKeyUse, FindingSubject.ProviderKey(keyName, await VersionOfAsync(host, keyName)), FindingSeverity.High,
            host.Time.GetUtcNow());
        var responder = Responder(host.Services);

        // As a sweep, its retry pass and a second instance's sweep of the same window would, all at once.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => i % 2 == 0
            ? responder.RespondAsync(finding, CancellationToken.None)
            : responder.RetryPendingAsync(CancellationToken.None))));
        await responder.RetryPendingAsync(CancellationToken.None);

        var stored = (await Store(host.Services).GetAsync(finding.Id, CancellationToken.None))!.Finding;
        Assert.Equal((FindingActionState.Taken, 1, true), (stored.ActionState, stored.ActionAttempts, stored.Alerted));
        Assert.Equal(1, starter!.Calls);
        Assert.Single(host.Driver.Scheduled);
        Assert.Equal(1, await RotationsStartedForAsync(host.Services, keyName, finding.Id));
        Assert.Single(host.Alerts.For(finding.Subject));
        Assert.Equal(["POST findings/{id}/alert 202 -", "POST provider-keys/{name}/rotations 202 -"], await SweepTrailAsync(host.Services, finding, keyName));
    }

    [Fact]
    public async Task A_rotation_already_running_is_left_alone_and_noted_on_the_finding()
    {
        await using var host = await RotationHost.StartAsync();
        var keyName = await host.RegisterKeyAsync();
        var running = await host.StartRotationAsync(keyName, RotationStrategy.Canary);
        host.Driver.Running[keyName] = true; // its driver has it
        var finding = NewFinding(Detectors.ShadowUsage, FindingSubject.ProviderKey(keyName, await VersionOfAsync(host, keyName)), FindingSeverity.High,
            host.Time.GetUtcNow());

        var noted = await Responder(host.Services).RespondAsync(finding, CancellationToken.None);

        Assert.Equal((FindingAction.Rotate, FindingActionState.Skipped), (noted.Action, noted.ActionState));
        Assert.Contains(running.Id, noted.ActionOutcome, StringComparison.Ordinal);
        Assert.Contains("left alone", noted.ActionOutcome, StringComparison.Ordinal);
        Assert.Equal([running], host.Driver.Scheduled);
        Assert.False((await host.Store.GetAsync(running.KeyName, running.Id))!.AbortRequested);
        Assert.Equal(["POST findings/{id}/alert 202 -", "POST provider-keys/{name}/rotations 409 rotation_running"], await SweepTrailAsync(host.Services, finding, keyName));
    }

    [Fact]
    public async Task An_alert_that_cannot_be_handed_over_is_published_by_the_next_retry_once()
    {
        var alerts = new FlakyAlertSink { FailNext = 1 };
        await using var host = await RotationHost.StartAsync(configure: services => services.AddSingleton<IAlertSink>(alerts));
        var finding = NewFinding(Detectors.Volume, "relay-key:volumekey0001", FindingSeverity.Medium, host.Time.GetUtcNow());
        var responder = Responder(host.Services);

        var first = await responder.RespondAsync(finding, CancellationToken.None);
        Assert.Equal((FindingAction.Alert, FindingActionState.Taken, false), (first.Action, first.ActionState, first.Alerted));
        Assert.Empty(alerts.For(finding.Subject));

        await responder.RetryPendingAsync(CancellationToken.None);
        await responder.RetryPendingAsync(CancellationToken.None);

        Assert.Single(alerts.For(finding.Subject));
        Assert.True((await Store(host.Services).GetAsync(finding.Id, CancellationToken.None))!.Finding.Alerted);
    }

    private sealed record Subject(Finding Finding, string Target, string? KeyName);

    /// <summary>A finding of its own subject that the default policy answers with <paramref name="action"/>.</summary>
    private static async Task<Subject> NewSubjectAsync(RotationHost host, FindingAction action)
    {
        var now = host.Time.GetUtcNow();
        switch (action)
        {
            case FindingAction.Suspend:
                var (key, _) = await host.Relay.CreateRelayKeyAsync();
                return new(NewFinding(Detectors.NewSource, FindingSubject.RelayKey(key.Id), FindingSeverity.High, now), key.Id, null);
            case FindingAction.Rotate:
                var keyName = await host.RegisterKeyAsync();
                return new(NewFinding(Detectors.ShadowUsage, FindingSubject.ProviderKey(keyName, await VersionOfAsync(host, keyName)), FindingSeverity.Low, now), keyName, keyName);
            default:
                var (quiet, _) = await host.Relay.CreateRelayKeyAsync();
                return new(NewFinding(Detectors.Volume, FindingSubject.RelayKey(quiet.Id), FindingSeverity.High, now), quiet.Id, null);
        }
    }

    /// <summary>What responding left, by role, so two subjects compare: the finding's action, the key, the rotations, alerts and trail rows.</summary>
    private static async Task<string> EndStateAsync(RotationHost host, Subject subject)
    {
        var stored = (await Store(host.Services).GetAsync(subject.Finding.Id, CancellationToken.None))!.Finding;
        var keyStatus = subject.KeyName is null
            ? (await host.Services.GetRequiredService<RelayKeyService>().GetAsync(subject.Target))!.Status.ToString()
            : (await RotationsStartedForAsync(host.Services, subject.KeyName, subject.Finding.Id)).ToString(System.Globalization.CultureInfo.InvariantCulture) + " rotation(s)";
        var outcome = stored.ActionOutcome?.Replace(subject.Target, "{target}", StringComparison.Ordinal);
        if (subject.KeyName is not null && outcome is not null)
            outcome = System.Text.RegularExpressions.Regex.Replace(outcome, @"rotation \S+ of", "rotation {id} of");
        return string.Join(" | ",
            $"{stored.Action}:{stored.ActionState}:{stored.Alerted}:{stored.Status}",
            outcome ?? "-",
            keyStatus,
            string.Join(",", host.Alerts.For(subject.Finding.Subject).Select(a => a.Kind)),
            string.Join(",", await SweepTrailAsync(host.Services, subject.Finding, subject.Target)),
            (await StoredCopiesAsync(host.Services, subject.Finding.Id)).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<string> VersionOfAsync(RotationHost host, string keyName) =>
        (await host.Registry.GetAsync(keyName))!.Weights.Keys.Single();
}
