using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Makes one staged version the one that serves, after the provider accepted its value. Idempotent and crash-safe:
/// every write is skipped when its end state already holds, so a re-run after a crash finishes the same activation
/// and a re-run after success writes nothing.
/// </summary>
public sealed class ProviderKeyActivation(ProviderKeyRegistry registry, ISecretStore store, SecretCache secrets, ProviderKeyValidator validator,
    RotationStore rotations)
{
    public const int FullWeight = 100;

    public async Task<ActivationResult> ActivateAsync(string name, string version, CancellationToken cancellationToken)
    {
        if (await registry.GetAsync(name, cancellationToken).ConfigureAwait(false) is not { } config)
            return new ActivationResult(ActivationOutcome.KeyNotFound);
        if (await RunningRotationAsync(name, cancellationToken).ConfigureAwait(false) is { } refused)
            return refused;
        IReadOnlyList<SecretVersionInfo> versions;
        try
        {
            versions = await store.ListVersionsAsync(config.SecretName, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return new ActivationResult(ActivationOutcome.VersionNotFound);
        }
        if (versions.FirstOrDefault(v => v.Version == version) is not { } target)
            return new ActivationResult(ActivationOutcome.VersionNotFound);
        if (!target.Enabled || target.State == SecretVersionState.Revoked)
            return new ActivationResult(ActivationOutcome.VersionUnusable);

        var value = await store.GetAsync(config.SecretName, version, cancellationToken).ConfigureAwait(false);
        var validation = await validator.ValidateAsync(config, value.Value, cancellationToken).ConfigureAwait(false);
        if (validation.Verdict != ProviderKeyVerdict.Accepted)
            return new ActivationResult(validation.Verdict == ProviderKeyVerdict.Rejected ? ActivationOutcome.Rejected : ActivationOutcome.ValidationFailed, validation);

        return await ApplyAsync(config, versions, target, validation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refused while the key has an unfinished rotation (see <see cref="ActivationOutcome.RotationRunning"/>); null otherwise.</summary>
    internal async Task<ActivationResult?> RunningRotationAsync(string name, CancellationToken cancellationToken) =>
        await rotations.GetUnfinishedAsync(name, cancellationToken).ConfigureAwait(false) is { } running
            ? new ActivationResult(ActivationOutcome.RotationRunning, RunningRotation: running.Id)
            : null;

    /// <summary>Activates a version whose value was validated just before it was stored (stage with activate).</summary>
    internal async Task<ActivationResult> ActivateValidatedAsync(ProviderKeyConfig config, string version, ProviderKeyValidation validation, CancellationToken cancellationToken)
    {
        var versions = await store.ListVersionsAsync(config.SecretName, cancellationToken).ConfigureAwait(false);
        var target = versions.First(v => v.Version == version);
        return await ApplyAsync(config, versions, target, validation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The writes, in this order: (1) tag the version active, (2) move all weight to it, (3) tag the versions that
    /// served before previous. Why: a version carrying weight is then always tagged active, and a version tagged
    /// previous never still carries weight, so whatever trusts the tags (a later revoke of previous versions) cannot
    /// cut off traffic, whichever step a crash stops after. A crash after (2) loses the old weights, so (3) also finds
    /// the old versions by their active tag, and a re-run completes it.
    /// </summary>
    private async Task<ActivationResult> ApplyAsync(ProviderKeyConfig config, IReadOnlyList<SecretVersionInfo> versions, SecretVersionInfo target,
        ProviderKeyValidation validation, CancellationToken cancellationToken)
    {
        var changed = false;
        if (target.State != SecretVersionState.Active)
        {
            await TagAsync(config.SecretName, target.Version, SecretVersionState.Active, cancellationToken).ConfigureAwait(false);
            changed = true;
        }

        var weights = new Dictionary<string, int> { [target.Version] = FullWeight };
        var before = await registry.SetWeightsAsync(config.Name, weights, cancellationToken).ConfigureAwait(false);
        if (before is null)
            return new ActivationResult(ActivationOutcome.KeyNotFound); // deleted meanwhile
        changed |= !ProviderKeyRegistry.SameWeights(before, weights);

        var previous = new List<string>();
        foreach (var other in versions)
        {
            if (other.Version == target.Version || other.State is SecretVersionState.Previous or SecretVersionState.Revoked)
                continue;
            if (other.State == SecretVersionState.Active || before.GetValueOrDefault(other.Version) > 0)
            {
                await TagAsync(config.SecretName, other.Version, SecretVersionState.Previous, cancellationToken).ConfigureAwait(false);
                previous.Add(other.Version);
            }
        }
        changed |= previous.Count > 0;
        if (changed)
            secrets.Invalidate(config.SecretName); // cached tags of the latest version are now wrong on this instance
        return new ActivationResult(changed ? ActivationOutcome.Activated : ActivationOutcome.AlreadyActive, validation, previous);
    }

    private Task TagAsync(string secretName, string version, SecretVersionState state, CancellationToken cancellationToken) =>
        store.UpdateAsync(secretName, version, new SecretVersionUpdate(Tags: new Dictionary<string, string> { [SecretTags.State] = state.ToTag() }), cancellationToken);
}
