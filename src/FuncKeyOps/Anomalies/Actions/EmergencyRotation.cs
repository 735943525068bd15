using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// Starts an emergency rotation of the provider key a finding names (<see cref="Trigger"/> <c>anomaly</c>, the finding id
/// as its reason): the named key stops serving and is revoked at once, then its successor is made. A rotation already
/// running is left alone (two rotations of one key cannot run, and aborting one mid-way would not contain faster);
/// one this finding started, found again after a crash, counts as taken. A finding about a version that no longer
/// serves (a rotation already took it out) rotates nothing: that would replace its healthy successor.
/// </summary>
internal sealed class EmergencyRotation(IRotationStarter starter, RotationStore rotations, ProviderKeyRegistry registry)
{
    public const string Trigger = "anomaly";

    // Instances' clocks differ a little; a rotation this finding started is looked for from a bit before its first attempt.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    public async Task<ActionResult> StartAsync(Finding finding, CancellationToken cancellationToken)
    {
        if (!FindingSubject.TryProviderKey(finding.Subject, out var name, out var version))
            return new ActionResult(FindingActionState.Skipped, "The subject names no provider key; nothing was rotated.");

        // An earlier attempt may have started it and crashed before recording so, and the rotation may be over by now.
        if (finding.ActionAttempts > 1 && finding.ActionStartedAt is { } started
            && await rotations.FindStartedAsync(name, Trigger, finding.Id, started - ClockSkew, cancellationToken).ConfigureAwait(false) is { } earlier)
            return Started(name, earlier.RotationId);

        // The relay's last calls on a version an emergency rotation has just contained are refused by the provider (the
        // rotation revoked it there) and raise provider_key_rejected on it in the next sweep; a shadow-usage hour is judged
        // hours after the rotation it caused. Rotating the key again for those would revoke the new version, which no
        // one leaked. A version that carries no weight while others do is out of service already.
        if (version is not null && await registry.GetAsync(name, cancellationToken).ConfigureAwait(false) is { Weights.Count: > 0 } config
            && config.Weights.GetValueOrDefault(version) <= 0 && config.Weights.Values.Any(w => w > 0))
            return new ActionResult(FindingActionState.Skipped,
                $"Version {version} of provider key {name} serves no traffic any more (a rotation replaced it); nothing was rotated.");

        var start = await starter.StartAsync(new RotationRequest(name, RotationStrategy.Emergency, finding.Id, Trigger: Trigger), cancellationToken).ConfigureAwait(false);
        switch (start.Outcome)
        {
            case RotationStartOutcome.Started:
                return Started(name, start.Rotation!.Value);
            case RotationStartOutcome.KeyNotFound:
                return new ActionResult(FindingActionState.Skipped, $"Provider key {name} is not registered; nothing was rotated.",
                    SweepTrail.RotateRoute, name, StatusCodes.Status404NotFound, FuncKeyOpsErrors.NotFound.Code);
        }
        if (start.Rotation is not { } running)
            return ActionResult.Failed($"A rotation of provider key {name} is being started by someone else; tried again next sweep.");
        var record = await rotations.GetAsync(running.KeyName, running.Id, cancellationToken).ConfigureAwait(false);
        if (record is not null && record.Trigger == Trigger && record.Reason == finding.Id)
            return Started(name, running);
        var what = record is null ? "" : $" ({record.Strategy.ToName()}, trigger {record.Trigger})";
        return new ActionResult(FindingActionState.Skipped, $"Rotation {running.Id}{what} of provider key {name} was already running; left alone.",
            SweepTrail.RotateRoute, name, StatusCodes.Status409Conflict, FuncKeyOpsErrors.RotationRunning.Code);
    }

    private static ActionResult Started(string name, RotationId rotation) =>
        new(FindingActionState.Taken, $"Emergency rotation {rotation.Id} of provider key {name} started.",
            SweepTrail.RotateRoute, name, StatusCodes.Status202Accepted);
}
