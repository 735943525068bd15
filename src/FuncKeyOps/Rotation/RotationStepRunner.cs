using FuncKeyOps.Alerts;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Rotation;

/// <summary>
/// Runs one step of a rotation's plan against the vault, the <c>providerkeys</c> weights and the provider's connector,
/// then records it on the row. Each step's writes are ordered, and each is skipped when its end state already holds,
/// so a crash after any write followed by a re-run reaches the same end state (as <see cref="ProviderKeyActivation"/>):
/// a version that carries weight is tagged active before it gets the weight, and an old version is tagged previous
/// or revoked only once it has none. Alerts go out before the row records the step, so a crash between the two
/// repeats the alert (deduplicated by its key) instead of losing it.
/// </summary>
public sealed partial class RotationStepRunner(
    RotationStore rotations,
    ProviderKeyRegistry registry,
    ISecretStore store,
    SecretCache secrets,
    ProviderKeyValidator validator,
    RotationErrorRate errorRate,
    IEnumerable<IKeyConnector> connectors,
    IEnumerable<IAlertSink> alertSinks,
    IOptions<RotationOptions> options,
    TimeProvider time,
    ILogger<RotationStepRunner> logger) : IRotationStepRunner
{
    /// <summary>The vault tag naming the rotation that created or claimed a version, so a re-run finds it instead of creating another.</summary>
    public const string RotationTag = "rotationId";

    private const int SaveAttempts = 5;

    /// <summary>Test hook: called after every write a step makes (its name, e.g. <c>shift.weights</c>); throwing simulates a crash there.</summary>
    internal Action<RotationId, string>? AfterWrite { get; set; }

    public Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, CancellationToken cancellationToken) =>
        RunStepAsync(rotation, index, fence: null, cancellationToken);

    public Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, long fence, CancellationToken cancellationToken) =>
        RunStepAsync(rotation, index, new WriteFence(rotation.Id, fence), cancellationToken);

    private async Task<RotationStepResult> RunStepAsync(RotationId rotation, int index, WriteFence? fence, CancellationToken cancellationToken)
    {
        using var span = RotationTelemetry.Start(rotation, index);
        try
        {
            var result = await RunStepCoreAsync(rotation, index, fence, span, cancellationToken).ConfigureAwait(false);
            RotationTelemetry.Finish(span, result);
            return result;
        }
        catch (Exception e)
        {
            RotationTelemetry.Failed(span, e);
            throw;
        }
    }

    private async Task<RotationStepResult> RunStepCoreAsync(RotationId rotation, int index, WriteFence? fence, System.Diagnostics.Activity? span,
        CancellationToken cancellationToken)
    {
        var record = await rotations.GetAsync(rotation.KeyName, rotation.Id, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"There is no rotation {rotation}.");
        ThrowIfFencedOut(record, fence);
        if (index != record.StepIndex || record.IsFinal)
            return Recorded(record);

        var config = await registry.GetAsync(record.KeyName, cancellationToken).ConfigureAwait(false);
        var connector = config is null ? null : connectors.FirstOrDefault(c => c.Name == config.Connector);
        if (config is null || connector is null)
        {
            var why = config is null ? "the provider key's registration was removed" : $"no connector named '{config.Connector}' is registered";
            // Removed by whoever asked for the abort (a tenant deleting its own key): an abort, not a failure to alert on.
            var final = config is null && record.AbortRequested ? RotationStatus.Aborted : RotationStatus.Failed;
            return await CompleteAsync(new Step(record, config!, connector!, record.Plan.Steps[index], fence), why, final: final, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        // Before any write of this lease: from now on a write an earlier holder began cannot land on the key's row.
        if (fence is not null)
            await registry.FenceAsync(config.Name, fence, cancellationToken).ConfigureAwait(false);

        if (record.AbortRequested)
            return await RollbackAsync(new Step(record, config, connector, record.Plan.Steps[record.Plan.RollbackIndex], fence), cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (now < record.NextDue)
            return RotationStepResult.Next(index, record.NextDue - now);

        var step = new Step(record, config, connector, record.Plan.Steps[index], fence);
        RotationTelemetry.Running(span, step.Definition);
        LogRunning(logger, rotation.ToString(), index, step.Definition.Name);
        return step.Definition.Kind switch
        {
            RotationStepKind.Contain => await ContainAsync(step, cancellationToken).ConfigureAwait(false),
            RotationStepKind.Create => await CreateAsync(step, cancellationToken).ConfigureAwait(false),
            RotationStepKind.Validate => await ValidateAsync(step, cancellationToken).ConfigureAwait(false),
            RotationStepKind.Shift => await ShiftAsync(step, cancellationToken).ConfigureAwait(false),
            RotationStepKind.Analyze => await AnalyzeAsync(step, cancellationToken).ConfigureAwait(false),
            RotationStepKind.Revoke => await RevokeOldAsync(step, cancellationToken).ConfigureAwait(false),
            _ => await RollbackAsync(step, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// Any index other than the row's current one (a step already run, asked again by a retried activity or by an
    /// orchestration re-driven from step 0) learns where the rotation is and what is left of its wait: the row's
    /// state, never the recorded results one by one, which would serve every hold again.
    /// </summary>
    private RotationStepResult Recorded(RotationRecord record)
    {
        if (record.IsFinal)
            return RotationStepResult.Finished(record.Status);
        var wait = record.NextDue - time.GetUtcNow();
        return RotationStepResult.Next(record.StepIndex, wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
    }

    /// <param name="Fence">The Server driver's lease, when it runs the step: its table writes are fenced.</param>
    private sealed record Step(RotationRecord Rotation, ProviderKeyConfig Config, IKeyConnector Connector, RotationStep Definition, WriteFence? Fence = null)
    {
        public int Index => Rotation.StepIndex;
        public string SecretName => Config.SecretName;
        public RotationId Id => Rotation.RotationId;
    }

    // ---- steps ----

    /// <summary>
    /// Emergency, contain first: (1) take all weight off the compromised version, so it stops serving before anything
    /// that can fail or wait; (2) revoke it at the provider; (3) tag it revoked and disable it. A provider that cannot
    /// be reached is asked again (the version already serves nothing); one that refuses for good leaves the key for an
    /// operator to delete by hand, with an alert, as the manual connector does.
    /// </summary>
    private async Task<RotationStepResult> ContainAsync(Step step, CancellationToken cancellationToken)
    {
        // The old version stays listed with weight 0 rather than none: a row without weights would serve the latest
        // version, and staging the successor (which pins the serving version of such a row) must find nothing to pin.
        var none = step.Rotation.OldVersion is { } contained ? new Dictionary<string, int> { [contained] = 0 } : new Dictionary<string, int>();
        if (await registry.SetWeightsAsync(step.Config.Name, none, step.Fence, cancellationToken).ConfigureAwait(false) is null)
            return await CompleteAsync(step, "the provider key's registration was removed", final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        Wrote(step, "contain.weights");
        var now = time.GetUtcNow();
        if (step.Rotation.OldVersion is { } old)
        {
            var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
            // The connector is told nothing serves (true now), or one that refuses to delete a serving key (openai)
            // would leave the compromised key alive.
            var nothingServes = step with { Config = step.Config with { Weights = none } };
            var revocation = await RevokeVersionAsync(nothingServes, versions, old, cancellationToken, refusedMeansByHand: true).ConfigureAwait(false);
            if (revocation?.Outcome == ConnectorRevokeOutcome.StillServes)
                return await StoppedBecauseServingAsync(step, revocation, cancellationToken).ConfigureAwait(false);
            // The wait is recorded with the window's start: from now on no key serves, whatever the provider does.
            if (revocation?.Outcome == ConnectorRevokeOutcome.Failed)
                return await WaitOrFailAsync(step, $"the provider did not revoke the compromised key ({revocation.Detail})", cancellationToken,
                    r => r with { WindowStart = r.WindowStart ?? now }).ConfigureAwait(false);
        }
        return await CompleteAsync(step, "the compromised version was revoked and serves nothing; no key serves until the successor is validated",
            r => r with { WindowStart = r.WindowStart ?? now }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<RotationStepResult> CreateAsync(Step step, CancellationToken cancellationToken)
    {
        var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
        var mine = versions.FirstOrDefault(v => v.Tags.TryGetValue(RotationTag, out var id) && id == step.Rotation.Id);
        if (mine is null)
        {
            var creation = await step.Connector.CreateAsync(Request(step, versions), cancellationToken).ConfigureAwait(false);
            switch (creation.Outcome)
            {
                case ConnectorCreateOutcome.Created when !string.IsNullOrEmpty(creation.Value):
                    Wrote(step, "create.provider");
                    var tags = new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Pending.ToTag(), [RotationTag] = step.Rotation.Id };
                    if (!string.IsNullOrEmpty(creation.ProviderKeyId))
                        tags[SecretTags.ProviderKeyId] = creation.ProviderKeyId;
                    mine = await store.SetAsync(step.SecretName, creation.Value, tags, cancellationToken).ConfigureAwait(false);
                    Wrote(step, "create.store");
                    break;
                case ConnectorCreateOutcome.AwaitingOperator:
                    var staged = versions.LastOrDefault(v => v.Enabled && v.State == SecretVersionState.Pending && !step.Rotation.PriorVersions.Contains(v.Version));
                    if (staged is null)
                        return await WaitOrFailAsync(step, "no value was staged for the new version", cancellationToken).ConfigureAwait(false);
                    // A value put straight into Key Vault bypassed the staging call's check of its providerKeyId, which
                    // every later revoke of this version acts on: the connector confirms it before the rotation claims it.
                    if (staged.Tags.GetValueOrDefault(SecretTags.ProviderKeyId) is { Length: > 0 } stagedKeyId)
                    {
                        var stagedValue = await store.GetAsync(step.SecretName, staged.Version, cancellationToken).ConfigureAwait(false);
                        var confirmation = await step.Connector.ConfirmKeyIdAsync(step.Config, stagedValue.Value, stagedKeyId, cancellationToken).ConfigureAwait(false);
                        if (confirmation.Verdict == KeyIdVerdict.Failed)
                            return await WaitOrFailAsync(step, $"the staged version's providerKeyId could not be confirmed yet ({confirmation.Detail})", cancellationToken).ConfigureAwait(false);
                        if (confirmation.Verdict == KeyIdVerdict.Refused)
                            return await CompleteAsync(step, $"version {staged.Version} was staged with a providerKeyId that is not its key ({confirmation.Detail}): stage the value again with its own id, or none",
                                final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
                    }
                    mine = await store.UpdateAsync(step.SecretName, staged.Version,
                        new SecretVersionUpdate(Tags: new Dictionary<string, string> { [RotationTag] = step.Rotation.Id }), cancellationToken).ConfigureAwait(false);
                    Wrote(step, "create.claim");
                    break;
                case ConnectorCreateOutcome.Failed when creation.Transient:
                    return await WaitOrFailAsync(step, $"the connector could not create a key ({creation.Detail})", cancellationToken).ConfigureAwait(false);
                default:
                    return await CompleteAsync(step, $"the connector could not create a key ({creation.Detail})", final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        var version = mine.Version;
        return await CompleteAsync(step, $"version {version} created", r => r with { NewVersion = version }, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<RotationStepResult> ValidateAsync(Step step, CancellationToken cancellationToken)
    {
        var version = step.Rotation.NewVersion!;
        var value = await store.GetAsync(step.SecretName, version, cancellationToken).ConfigureAwait(false);
        var validation = await validator.ValidateAsync(step.Config, value.Value, cancellationToken).ConfigureAwait(false);
        switch (validation.Verdict)
        {
            case ProviderKeyVerdict.Accepted:
                return await CompleteAsync(step, $"the provider accepted version {version} (status {validation.Status})", cancellationToken: cancellationToken).ConfigureAwait(false);
            case ProviderKeyVerdict.Rejected:
                // It never carried weight: revoking it touches no traffic.
                var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
                var revocation = await RevokeVersionAsync(step, versions, version, cancellationToken).ConfigureAwait(false);
                if (revocation?.Outcome == ConnectorRevokeOutcome.StillServes)
                    return await StoppedBecauseServingAsync(step, revocation, cancellationToken).ConfigureAwait(false);
                if (revocation?.Outcome == ConnectorRevokeOutcome.Failed && revocation.Transient)
                    return await WaitOrFailAsync(step, $"the refused new key could not be revoked yet ({revocation.Detail})", cancellationToken).ConfigureAwait(false);
                return await CompleteAsync(step, $"the provider refused version {version} (status {validation.Status}); it was revoked and the weights were not touched",
                    final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
            default:
                return await WaitOrFailAsync(step, $"the provider's answer to the validation call said nothing about the key ({validation.Verdict} {validation.Status})", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>(1) tag the new version active, (2) write the weights, (3) once the old one has none, tag it previous.</summary>
    private async Task<RotationStepResult> ShiftAsync(Step step, CancellationToken cancellationToken)
    {
        var weight = step.Definition.Weight ?? ProviderKeyActivation.FullWeight;
        var newVersion = step.Rotation.NewVersion!;
        var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
        var old = step.Rotation.OldVersion is { } o ? versions.FirstOrDefault(v => v.Version == o) : null;
        var oldServes = old is not null && old.State != SecretVersionState.Revoked && weight < ProviderKeyActivation.FullWeight;
        var weights = oldServes
            ? new Dictionary<string, int> { [newVersion] = weight, [old!.Version] = ProviderKeyActivation.FullWeight - weight }
            : new Dictionary<string, int> { [newVersion] = ProviderKeyActivation.FullWeight };

        if (versions.First(v => v.Version == newVersion).State != SecretVersionState.Active)
        {
            await TagAsync(step, newVersion, SecretVersionState.Active, "shift.tag-active", cancellationToken).ConfigureAwait(false);
        }
        var before = await registry.SetWeightsAsync(step.Config.Name, weights, step.Fence, cancellationToken).ConfigureAwait(false);
        if (before is null)
            return await CompleteAsync(step, "the provider key's registration was removed", final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!ProviderKeyRegistry.SameWeights(before, weights))
            Wrote(step, "shift.weights");
        if (!oldServes && old is { State: SecretVersionState.Active })
            await TagAsync(step, old.Version, SecretVersionState.Previous, "shift.tag-previous", cancellationToken).ConfigureAwait(false);
        secrets.Invalidate(step.SecretName);

        var described = string.Join(", ", weights.Select(w => $"{w.Key}: {w.Value}%"));
        await PublishAsync(step, RotationAlerts.Shifted, $"weights now {described}", cancellationToken,
            new Dictionary<string, string> { ["weight"] = weight.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ConfigureAwait(false);
        var now = time.GetUtcNow();
        var emergency = step.Rotation.Strategy == RotationStrategy.Emergency;
        return await CompleteAsync(step, $"weights {described}",
            r => emergency && weight == ProviderKeyActivation.FullWeight ? r with { WindowEnd = r.WindowEnd ?? now } : r,
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<RotationStepResult> AnalyzeAsync(Step step, CancellationToken cancellationToken)
    {
        var since = step.Rotation.History.LastOrDefault(h => h.Step.StartsWith("shift", StringComparison.Ordinal))?.Time ?? step.Rotation.StartedAt;
        var now = time.GetUtcNow();
        var (calls, errors) = await errorRate.MeasureAsync(step.Rotation.KeyName, step.Rotation.NewVersion!, since, now.AddTicks(1), cancellationToken).ConfigureAwait(false);
        var max = step.Definition.MaxErrorRate ?? RotationPlans.MaxErrorRate;
        var enough = calls >= (step.Definition.MinRequests ?? RotationPlans.DefaultMinRequests);
        var rate = calls == 0 ? 0 : (double)errors / calls;
        if (enough && rate > max)
            return await CompleteAsync(step, $"{errors} of {calls} calls failed ({rate:P1}, over {max:P1}): rolling back",
                next: step.Rotation.Plan.RollbackIndex, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await CompleteAsync(step, enough ? $"{errors} of {calls} calls failed ({rate:P1})" : $"{errors} of {calls} calls failed: too few calls to judge",
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<RotationStepResult> RevokeOldAsync(Step step, CancellationToken cancellationToken)
    {
        if (step.Rotation.OldVersion is { } old)
        {
            var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
            var revocation = await RevokeVersionAsync(step, versions, old, cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.StillServes })
                return await StoppedBecauseServingAsync(step, revocation, cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.Failed, Transient: true })
                return await WaitOrFailAsync(step, $"the provider did not revoke the old key ({revocation.Detail})", cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.Failed })
                return await CompleteAsync(step, $"the new version serves, but the provider refused to revoke the old one ({revocation.Detail}): revoke it by hand",
                    final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        return await CompleteAsync(step, step.Rotation.OldVersion is null ? "no old version to revoke" : $"version {step.Rotation.OldVersion} revoked",
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Back to the old version: (1) tag it active, (2) give it all weight, (3) revoke the new one at the provider,
    /// (4) tag that revoked. An abort ends Aborted instead of RolledBack; in an emergency past its containment there
    /// is nothing to go back to, so an abort only stops.
    /// </summary>
    private async Task<RotationStepResult> RollbackAsync(Step step, CancellationToken cancellationToken)
    {
        var aborting = step.Rotation.AbortRequested;
        var final = aborting ? RotationStatus.Aborted : RotationStatus.RolledBack;
        if (step.Rotation.Strategy == RotationStrategy.Emergency)
            return await CompleteAsync(step, step.Rotation.WindowStart is null ? "aborted before containment: nothing changed" : "stopped after containment: the compromised key stays revoked",
                final: final, cancellationToken: cancellationToken).ConfigureAwait(false);

        var versions = await VersionsAsync(step.SecretName, cancellationToken).ConfigureAwait(false);
        // Once the revoke of the old version may have begun (its grace is over), the old key may already be dead at
        // the provider: going back to it, and revoking the new one, could leave no working key. Stop instead.
        var current = step.Rotation.Plan.Steps[step.Rotation.StepIndex];
        var oldInfo = step.Rotation.OldVersion is { } o ? versions.FirstOrDefault(v => v.Version == o) : null;
        if (step.Rotation.OldVersion is not null && (oldInfo is null || !oldInfo.Enabled || oldInfo.State == SecretVersionState.Revoked
            || (current.Kind == RotationStepKind.Revoke && time.GetUtcNow() >= step.Rotation.NextDue)))
            return await CompleteAsync(step, "stopped without going back: the old version's revoke may have begun, so the new version keeps serving; check the old key at the provider",
                final: aborting ? RotationStatus.Aborted : RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (oldInfo is { } old)
        {
            if (old.State != SecretVersionState.Active)
                await TagAsync(step, old.Version, SecretVersionState.Active, "rollback.tag-old-active", cancellationToken).ConfigureAwait(false);
            var weights = new Dictionary<string, int> { [old.Version] = ProviderKeyActivation.FullWeight };
            var before = await registry.SetWeightsAsync(step.Config.Name, weights, step.Fence, cancellationToken).ConfigureAwait(false);
            if (before is not null && !ProviderKeyRegistry.SameWeights(before, weights))
                Wrote(step, "rollback.weights");
            secrets.Invalidate(step.SecretName);
            // The connector is told which keys serve from the step's config: read before the weights went back, it
            // would still name the new key as serving, and a connector that refuses to delete a serving key (openai)
            // would fail the rollback.
            step = step with { Config = step.Config with { Weights = weights } };
        }
        if (step.Rotation.NewVersion is { } newVersion && step.Rotation.OldVersion is not null)
        {
            var revocation = await RevokeVersionAsync(step, versions, newVersion, cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.StillServes })
                return await StoppedBecauseServingAsync(step, revocation, cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.Failed, Transient: true })
                return await WaitOrFailAsync(step, $"the provider did not revoke the new key ({revocation.Detail})", cancellationToken).ConfigureAwait(false);
            if (revocation is { Outcome: ConnectorRevokeOutcome.Failed })
                return await CompleteAsync(step, $"traffic is back on the old version, but the provider refused to revoke the new one ({revocation.Detail}): revoke it by hand",
                    final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        return await CompleteAsync(step, aborting ? "aborted: traffic is back on the old version" : "rolled back: traffic is back on the old version",
            final: final, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    // ---- shared writes ----

    /// <summary>
    /// (1) the provider revokes the key, (2) the vault version is tagged revoked and disabled in one write. Nothing
    /// is done for a version already tagged revoked, so a re-run after (2) calls no connector; a crash between (1)
    /// and (2) calls it again, and a key already gone is success to every connector.
    /// </summary>
    /// <returns>The connector's answer, or null when there was nothing to do.</returns>
    /// <param name="refusedMeansByHand">A provider refusing for good (not a transient failure) is handled as a connector that
    /// cannot revoke: the version is disabled and tagged revoked here and an operator is alerted to delete the key.</param>
    private async Task<ConnectorRevocation?> RevokeVersionAsync(Step step, IReadOnlyList<SecretVersionInfo> versions, string version,
        CancellationToken cancellationToken, bool refusedMeansByHand = false)
    {
        if (versions.FirstOrDefault(v => v.Version == version) is not { } info || info.State == SecretVersionState.Revoked)
            return null;
        // What serves is read again here, not taken from the step's start: an operator may have given the version
        // weight since (a rollback by hand during the grace), and no connector must be asked to kill a serving key.
        var current = await registry.GetAsync(step.Config.Name, cancellationToken).ConfigureAwait(false) ?? step.Config;
        if (Serves(current.Weights, info))
            return new ConnectorRevocation(ConnectorRevokeOutcome.StillServes, $"version {version} carries routing weight; it was not revoked");
        step = step with { Config = current };
        var revocation = await step.Connector.RevokeAsync(Request(step, versions),
            new RevokedVersion(version, info.Tags.GetValueOrDefault(SecretTags.ProviderKeyId)), cancellationToken).ConfigureAwait(false);
        Wrote(step, "revoke.provider");
        if (revocation.Outcome == ConnectorRevokeOutcome.Failed && refusedMeansByHand && !revocation.Transient)
            revocation = revocation with { Outcome = ConnectorRevokeOutcome.OperatorMustRevoke };
        if (revocation.Outcome == ConnectorRevokeOutcome.Failed)
            return revocation;
        if (revocation.Outcome == ConnectorRevokeOutcome.OperatorMustRevoke)
            await PublishAsync(step, RotationAlerts.RevokeManually, $"version {version} is disabled in Key Vault; delete its key at the provider ({revocation.Detail})",
                cancellationToken, new Dictionary<string, string> { ["version"] = version }).ConfigureAwait(false);
        await store.UpdateAsync(step.SecretName, version, new SecretVersionUpdate(Enabled: false, Tags: new Dictionary<string, string>
        {
            [SecretTags.State] = SecretVersionState.Revoked.ToTag(),
            [SecretTags.RevokedAt] = time.GetUtcNow().ToTag(),
        }), cancellationToken).ConfigureAwait(false);
        Wrote(step, "revoke.tag");
        secrets.Invalidate(step.SecretName);
        return revocation;
    }

    /// <summary>Carries weight, or, on a row without weights (which serves its active version), is tagged active.</summary>
    private static bool Serves(IReadOnlyDictionary<string, int> weights, SecretVersionInfo info) =>
        weights.Count > 0 ? weights.GetValueOrDefault(info.Version) > 0 : info.Enabled && info.State == SecretVersionState.Active;

    /// <summary>A revoke left undone because the version serves: the rotation stops there and says why; nothing is rolled over it.</summary>
    private Task<RotationStepResult> StoppedBecauseServingAsync(Step step, ConnectorRevocation revocation, CancellationToken cancellationToken) =>
        CompleteAsync(step, $"{revocation.Detail}: it was given weight again (activated by hand?) after the rotation chose it; the rotation stops without revoking it",
            final: RotationStatus.Failed, cancellationToken: cancellationToken);

    private async Task TagAsync(Step step, string version, SecretVersionState state, string write, CancellationToken cancellationToken)
    {
        await store.UpdateAsync(step.SecretName, version,
            new SecretVersionUpdate(Tags: new Dictionary<string, string> { [SecretTags.State] = state.ToTag() }), cancellationToken).ConfigureAwait(false);
        Wrote(step, write);
    }

    /// <summary>Runs the same step again after the poll interval, until it has waited longer than the timeout: then the rotation fails.</summary>
    private async Task<RotationStepResult> WaitOrFailAsync(Step step, string why, CancellationToken cancellationToken,
        Func<RotationRecord, RotationRecord>? change = null)
    {
        var waitingSince = step.Rotation.History.LastOrDefault()?.Time ?? step.Rotation.StartedAt;
        var limits = options.Value;
        if (time.GetUtcNow() - waitingSince >= limits.StagedValueTimeout)
            return await CompleteAsync(step, $"{why}, for longer than {limits.StagedValueTimeout}", final: RotationStatus.Failed, cancellationToken: cancellationToken).ConfigureAwait(false);
        LogWaiting(logger, step.Id.ToString(), step.Index, why);
        return await SaveWaitAsync(step, why, limits.RecheckInterval, change, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the wait on the row (<see cref="RotationRecord.NextDue"/> and <see cref="RotationRecord.WaitingFor"/>,
    /// no history entry, so the timeout still counts from the last step done): a driver that reads the row then
    /// leaves it until it is due instead of running the step again at once, and an operator reading it sees why.
    /// </summary>
    private async Task<RotationStepResult> SaveWaitAsync(Step step, string why, TimeSpan wait, Func<RotationRecord, RotationRecord>? change,
        CancellationToken cancellationToken)
    {
        var record = step.Rotation;
        var index = record.StepIndex;
        var result = RotationStepResult.Next(index, wait);
        for (var attempt = 0; attempt < SaveAttempts; attempt++)
        {
            var waiting = (change?.Invoke(record) ?? record) with { NextDue = time.GetUtcNow() + wait, WaitingFor = why };
            if (await rotations.TrySaveProgressAsync(waiting, cancellationToken).ConfigureAwait(false))
                return result;
            var fresh = await rotations.GetAsync(record.KeyName, record.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The rotation {step.Id} was deleted while it ran.");
            ThrowIfFencedOut(fresh, step.Fence);
            if (fresh.StepIndex != index || fresh.IsFinal)
                return Recorded(fresh);
            record = fresh;
        }
        throw new InvalidOperationException($"The rotation {step.Id} kept changing while step {index}'s wait was recorded.");
    }

    /// <summary>
    /// Records the step on the row (ETag-guarded; a lease the Server driver renewed meanwhile only changes the ETag,
    /// so the write is tried again on the fresh row) and returns what the driver does next.
    /// </summary>
    /// <param name="next">The index to jump to (the rollback); otherwise the next step, and past the last the rotation succeeded.</param>
    private async Task<RotationStepResult> CompleteAsync(Step step, string outcome, Func<RotationRecord, RotationRecord>? change = null,
        int? next = null, RotationStatus? final = null, CancellationToken cancellationToken = default)
    {
        var record = step.Rotation;
        var index = record.StepIndex;
        var nextIndex = next ?? index + 1;
        var status = final ?? (next is null && nextIndex >= record.Plan.RollbackIndex ? RotationStatus.Succeeded : RotationStatus.Running);
        var result = status == RotationStatus.Running
            ? RotationStepResult.Next(nextIndex, next is null ? record.Plan.WaitAfter(index) : TimeSpan.Zero)
            : RotationStepResult.Finished(status);
        if (result.IsFinal)
            await PublishAsync(step, RotationAlerts.ForFinal(status), $"{status}: {outcome}", cancellationToken).ConfigureAwait(false);

        var now = time.GetUtcNow();
        for (var attempt = 0; attempt < SaveAttempts; attempt++)
        {
            var updated = (change?.Invoke(record) ?? record) with
            {
                Status = status,
                StepIndex = result.NextIndex ?? index,
                NextDue = now + result.Wait,
                WaitingFor = null,
                FinishedAt = result.IsFinal ? now : null,
                History = [.. record.History, new RotationHistoryEntry(index, step.Definition.Name, outcome, now, result.Status, result.NextIndex, result.Wait)],
            };
            if (await rotations.TrySaveProgressAsync(updated, cancellationToken).ConfigureAwait(false))
            {
                Wrote(step, "row");
                LogCompleted(logger, step.Id.ToString(), index, step.Definition.Name, outcome);
                if (result.IsFinal)
                    await rotations.ReleaseAsync(updated, cancellationToken).ConfigureAwait(false);
                return result;
            }
            var fresh = await rotations.GetAsync(record.KeyName, record.Id, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The rotation {step.Id} was deleted while it ran.");
            ThrowIfFencedOut(fresh, step.Fence);
            if (fresh.StepIndex != index || fresh.IsFinal)
                return Recorded(fresh); // another run of this step recorded it first
            record = fresh;
        }
        throw new InvalidOperationException($"The rotation {step.Id} kept changing while step {index} was recorded.");
    }

    /// <summary>The row was leased again since this step's driver took it: another driver runs it now.</summary>
    private static void ThrowIfFencedOut(RotationRecord record, WriteFence? fence)
    {
        if (fence is not null && record.LeaseFence != fence.Token)
            throw new FencedOutException($"The rotation {record.RotationId} was leased again (fence {record.LeaseFence}, this step's {fence.Token}).");
    }

    private Task PublishAsync(Step step, string kind, string message, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? details = null) =>
        RotationAlerts.PublishAsync(alertSinks, RotationAlerts.For(step.Rotation, step.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), kind, message, time.GetUtcNow(), details), cancellationToken);

    private void Wrote(Step step, string write) => AfterWrite?.Invoke(step.Id, write);

    private static ConnectorRequest Request(Step step, IReadOnlyList<SecretVersionInfo> versions) =>
        new(step.Config, step.Rotation.Id, versions
            .Where(v => step.Config.Weights.GetValueOrDefault(v.Version) > 0 && v.Tags.ContainsKey(SecretTags.ProviderKeyId))
            .Select(v => v.Tags[SecretTags.ProviderKeyId]).ToList(),
            step.Rotation.Strategy == RotationStrategy.Emergency && step.Rotation.OldVersion is { } contained
                ? versions.FirstOrDefault(v => v.Version == contained)?.Tags.GetValueOrDefault(SecretTags.ProviderKeyId)
                : null);

    private Task<IReadOnlyList<SecretVersionInfo>> VersionsAsync(string secretName, CancellationToken cancellationToken) =>
        VersionsAsync(store, secretName, cancellationToken);

    /// <summary>A secret's versions; none when the secret does not exist yet.</summary>
    internal static async Task<IReadOnlyList<SecretVersionInfo>> VersionsAsync(ISecretStore store, string secretName, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ListVersionsAsync(secretName, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return [];
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation {Rotation} runs step {Index} ({Step})")]
    private static partial void LogRunning(ILogger logger, string rotation, int index, string step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation {Rotation} completed step {Index} ({Step}): {Outcome}")]
    private static partial void LogCompleted(ILogger logger, string rotation, int index, string step, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation {Rotation} waits at step {Index}: {Why}")]
    private static partial void LogWaiting(ILogger logger, string rotation, int index, string why);
}
