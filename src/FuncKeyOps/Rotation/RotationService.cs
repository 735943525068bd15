using FuncKeyOps.Alerts;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Rotation;

public enum AbortOutcome { Requested, NotFound, AlreadyFinal }

/// <summary>
/// Starts, reads and aborts rotations for the admin API and the schedules: writes the row, then hands it to the
/// host's <see cref="IRotationDriver"/>. The steps themselves are the <see cref="IRotationStepRunner"/>'s.
/// </summary>
public sealed class RotationService(
    RotationStore rotations,
    ProviderKeyRegistry registry,
    ProviderKeyStaging staging,
    ISecretStore store,
    IRotationDriver driver,
    IEnumerable<IAlertSink> alertSinks,
    IOptions<ProviderKeyOptions> providerKeyOptions,
    IOptions<SecretCacheOptions> secretCacheOptions,
    IOptions<RelayOptions> relayOptions,
    IOptions<RotationOptions> options,
    TimeProvider time) : IRotationStarter
{
    /// <summary>The revoke grace: no instance may still send the old version when it is revoked.</summary>
    public TimeSpan Grace => ProviderKeyStaleness.Bound(providerKeyOptions.Value, secretCacheOptions.Value, relayOptions.Value);

    public async Task<RotationStart> StartAsync(RotationRequest request, CancellationToken cancellationToken)
    {
        if (await registry.GetAsync(request.KeyName, cancellationToken).ConfigureAwait(false) is not { } config)
            return new RotationStart(RotationStartOutcome.KeyNotFound, null);
        // The store says which rotation runs; the driver also knows one whose row finished but whose instance has not.
        if (await rotations.GetUnfinishedAsync(request.KeyName, cancellationToken).ConfigureAwait(false) is { } running)
        {
            // A row no driver runs (the host stopped between writing it and scheduling it, or its orchestration was
            // lost) would refuse every start for ever: a repeated start hands it to the driver again, which resumes
            // it at the step the row names, and still answers that this rotation runs.
            if (!await driver.IsRunningAsync(request.KeyName, cancellationToken).ConfigureAwait(false))
                await driver.ScheduleAsync(running.RotationId, cancellationToken).ConfigureAwait(false);
            return new RotationStart(RotationStartOutcome.AlreadyRunning, running.RotationId);
        }
        if (await driver.IsRunningAsync(request.KeyName, cancellationToken).ConfigureAwait(false))
            return new RotationStart(RotationStartOutcome.AlreadyRunning, null);

        // A registration without weights serves its latest version; the rotation is about to add a newer one.
        await staging.PinServingVersionAsync(config, cancellationToken).ConfigureAwait(false);
        config = await registry.GetAsync(request.KeyName, cancellationToken).ConfigureAwait(false) ?? config;
        var now = time.GetUtcNow();
        var record = new RotationRecord
        {
            KeyName = config.Name,
            Id = RotationStore.NewId(now),
            Plan = RotationPlans.For(request.Strategy, Policy(config), request.Holds, Grace, options.Value.AnalysisMinRequests),
            Strategy = request.Strategy,
            Reason = request.Reason,
            Trigger = request.Trigger,
            OldVersion = config.Weights.Where(w => w.Value > 0).OrderByDescending(w => w.Value).Select(w => w.Key).FirstOrDefault(),
            PriorVersions = (await RotationStepRunner.VersionsAsync(store, config.SecretName, cancellationToken).ConfigureAwait(false)).Select(v => v.Version).ToList(),
            StartedAt = now,
            NextDue = now,
        };
        var (started, runningId) = await rotations.TryStartAsync(record, cancellationToken).ConfigureAwait(false);
        if (!started)
            return new RotationStart(RotationStartOutcome.AlreadyRunning, runningId is null ? null : new RotationId(config.Name, runningId));
        // Handed to its driver before anything else: an alert that cannot go out must not leave a rotation undriven.
        await driver.ScheduleAsync(record.RotationId, cancellationToken).ConfigureAwait(false);
        await RotationAlerts.PublishAsync(alertSinks, RotationAlerts.ForStart(record, request, now), cancellationToken).ConfigureAwait(false);
        return new RotationStart(RotationStartOutcome.Started, record.RotationId);
    }

    /// <summary>
    /// A rotation that only revokes <paramref name="oldVersion"/> after <see cref="Grace"/>: the caller has already
    /// validated and activated <paramref name="newVersion"/> (a tenant replacing its own key), so the old version
    /// serves nothing but may still be sent by instances whose caches predate the change. AlreadyRunning when the key
    /// has an unfinished rotation (its own revoke is still waiting).
    /// </summary>
    public async Task<RotationStart> StartRevokeAsync(string keyName, string oldVersion, string newVersion, string reason, string trigger,
        CancellationToken cancellationToken)
    {
        if (await registry.GetAsync(keyName, cancellationToken).ConfigureAwait(false) is not { } config)
            return new RotationStart(RotationStartOutcome.KeyNotFound, null);
        if (await rotations.GetUnfinishedAsync(keyName, cancellationToken).ConfigureAwait(false) is { } running)
            return new RotationStart(RotationStartOutcome.AlreadyRunning, running.RotationId);
        var now = time.GetUtcNow();
        var record = new RotationRecord
        {
            KeyName = config.Name,
            Id = RotationStore.NewId(now),
            Plan = RotationPlans.RevokeAfterGrace(Grace),
            // What happened, in the immediate strategy's terms: validated, all traffic moved at once, revoke after the grace.
            Strategy = RotationStrategy.Immediate,
            Reason = reason,
            Trigger = trigger,
            OldVersion = oldVersion,
            NewVersion = newVersion,
            PriorVersions = (await RotationStepRunner.VersionsAsync(store, config.SecretName, cancellationToken).ConfigureAwait(false)).Select(v => v.Version).ToList(),
            StartedAt = now,
            NextDue = now + Grace,
        };
        var (started, runningId) = await rotations.TryStartAsync(record, cancellationToken).ConfigureAwait(false);
        if (!started)
            return new RotationStart(RotationStartOutcome.AlreadyRunning, runningId is null ? null : new RotationId(config.Name, runningId));
        await driver.ScheduleAsync(record.RotationId, cancellationToken).ConfigureAwait(false);
        return new RotationStart(RotationStartOutcome.Started, record.RotationId);
    }

    public Task<RotationRecord?> GetAsync(RotationId rotation, CancellationToken cancellationToken) =>
        rotations.GetAsync(rotation.KeyName, rotation.Id, cancellationToken);

    /// <summary>Records the abort on the row (the next step run rolls back), then wakes the driver so a hold ends now.</summary>
    public async Task<(AbortOutcome Outcome, RotationRecord? Rotation)> AbortAsync(RotationId rotation, CancellationToken cancellationToken)
    {
        var record = await rotations.RequestAbortAsync(rotation.KeyName, rotation.Id, cancellationToken).ConfigureAwait(false);
        if (record is null)
            return (AbortOutcome.NotFound, null);
        if (record.IsFinal)
            return (AbortOutcome.AlreadyFinal, record);
        await driver.SignalAbortAsync(rotation, cancellationToken).ConfigureAwait(false);
        return (AbortOutcome.Requested, record);
    }

    // A stored policy that no longer parses (registered before policies were checked) rotates with the defaults.
    private static RotationPolicy Policy(ProviderKeyConfig config)
    {
        try
        {
            return RotationPolicy.Parse(config.Policy);
        }
        catch (FormatException)
        {
            return RotationPolicy.Default;
        }
    }
}
