using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies.Findings;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// Stores each finding once, takes its action once (<c>Anomalies:Actions</c>) and alerts once. Every step survives a
/// crash before, between or after its writes: the planned action is stored with the finding; an attempt claims it
/// by ETag (so two instances never act at once) and records its outcome by ETag; each action is idempotent (a
/// suspended key stays suspended, a rotation this finding started is found again by its reason); the alert is
/// deduplicated by the finding id. What a crash or a failure leaves undone, <see cref="RetryPendingAsync"/> finishes.
/// </summary>
internal sealed partial class FindingResponder(
    FindingStore store,
    RelayKeySuspension suspension,
    EmergencyRotation rotation,
    SweepTrail trail,
    IAlertSink alerts,
    IOptions<FindingActionOptions> options,
    IOptions<AnomalyOptions> anomalies,
    TimeProvider time,
    ILogger<FindingResponder> logger) : IFindingResponder
{
    /// <summary>
    /// How long an attempt may hold its claim before another takes the action over, the holder being taken for dead.
    /// One sweep period: an action is a few storage and vault calls, and a retry comes with the next sweep anyway.
    /// </summary>
    internal static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(5);

    /// <summary>How far back <see cref="RetryPendingAsync"/> looks: a finding still unfinished after a week is for an operator (its state says so).</summary>
    internal static readonly TimeSpan RetryHorizon = TimeSpan.FromDays(7);

    /// <summary>Test hook: called after each write (<c>stored</c>, <c>claim</c>, <c>trail</c>, <c>outcome</c>, <c>alert trail</c>, <c>alerted</c>); throwing simulates a crash there.</summary>
    internal Action<string, string>? AfterWrite { get; set; }

    public async Task<Finding> RespondAsync(Finding finding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(finding);
        var (stored, added) = await store.AddIfAbsentAsync(Plan(finding), cancellationToken).ConfigureAwait(false);
        if (added)
        {
            Wrote(stored, "stored");
            if (stored.Finding.ActionState == FindingActionState.Observed)
                LogObserved(logger, stored.Finding.Id, stored.Finding.Detector, stored.Finding.Subject, stored.Finding.Action);
        }
        try
        {
            return await ProceedAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            // Stored: what is left is the retry's, and the sweep's window is done.
            LogUnfinished(logger, stored.Finding.Id, e.GetType().Name);
            return stored.Finding;
        }
    }

    public async Task RetryPendingAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var unfinished = new List<StoredFinding>();
        try
        {
            await foreach (var stored in store.UnfinishedAsync(now - RetryHorizon, now, cancellationToken).ConfigureAwait(false))
                unfinished.Add(stored);
        }
        catch (Exception e) when (IsStorageFailure(e, cancellationToken))
        {
            // The next sweep looks again; a storage outage is not the sweep's failure.
            LogRetryUnreadable(logger, e.GetType().Name);
            return;
        }
        foreach (var stored in unfinished)
        {
            try
            {
                await ProceedAsync(stored, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsStorageFailure(e, cancellationToken))
            {
                LogUnfinished(logger, stored.Finding.Id, e.GetType().Name);
            }
        }
    }

    /// <summary>The finding as first stored: the action its policy asks, nothing attempted; in observe mode, what would have been done.</summary>
    private Finding Plan(Finding finding)
    {
        var action = FindingPolicy.Decide(finding, options.Value.Actions);
        var planned = finding with
        {
            Action = action,
            ActionState = FindingActionState.Pending,
            ActionOutcome = null,
            ActionAttempts = 0,
            ActionStartedAt = null,
            ActionAttemptedAt = null,
            Alerted = false,
            Status = FindingStatus.Open,
            ChangedBy = null,
            ChangedAt = null,
        };
        return anomalies.Value.Mode == AnomalyMode.Observe
            ? planned with { ActionState = FindingActionState.Observed, ActionOutcome = "Observe mode: would have " + WouldHave(action, finding.Subject) + "; nothing was done." }
            : planned;
    }

    private async Task<Finding> ProceedAsync(StoredFinding stored, CancellationToken cancellationToken)
    {
        if (stored.Finding.ActionState == FindingActionState.Observed)
            return stored.Finding;
        if (IsClaimable(stored.Finding, time.GetUtcNow()))
            stored = await ActAsync(stored, cancellationToken).ConfigureAwait(false);
        // After the outcome, whatever it was: an operator must hear of a containment that failed too.
        if (!stored.Finding.Alerted && stored.Finding.ActionState is FindingActionState.Taken or FindingActionState.Skipped or FindingActionState.Failed)
            stored = await AlertAsync(stored, cancellationToken).ConfigureAwait(false);
        return stored.Finding;
    }

    private static bool IsClaimable(Finding finding, DateTimeOffset now) => finding.ActionState switch
    {
        FindingActionState.Pending or FindingActionState.Failed => true,
        // An attempt that never recorded its outcome: its instance died, or hangs past any storage timeout.
        FindingActionState.Acting => finding.ActionAttemptedAt is not { } attempted || now - attempted >= ClaimTimeout,
        _ => false,
    };

    /// <summary>Claims the action, takes it, records it in the admin trail and its outcome on the finding. Returns the row as it is after.</summary>
    private async Task<StoredFinding> ActAsync(StoredFinding stored, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (claimed, won) = await UpdateAsync(stored, current => IsClaimable(current, now)
            ? current with
            {
                ActionState = FindingActionState.Acting,
                ActionAttempts = current.ActionAttempts + 1,
                ActionStartedAt = current.ActionStartedAt ?? now,
                ActionAttemptedAt = now,
            }
            : null, cancellationToken).ConfigureAwait(false);
        if (!won)
            return claimed; // another attempt holds it, or it is done
        Wrote(claimed, "claim");
        var claim = claimed.Finding;

        ActionResult result;
        try
        {
            result = claim.Action switch
            {
                FindingAction.Suspend => await suspension.SuspendAsync(claim, cancellationToken).ConfigureAwait(false),
                FindingAction.Rotate => await rotation.StartAsync(claim, cancellationToken).ConfigureAwait(false),
                // The alert is the action; it follows the outcome like every finding's.
                _ => new ActionResult(FindingActionState.Taken, ""),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever failed (storage, the vault, a rotation's start), the action is idempotent: retried next sweep.
            LogActionFailed(logger, claim.Id, claim.Action, claim.Subject, claim.ActionAttempts, e.GetType().Name);
            result = ActionResult.Failed($"{WouldHave(claim.Action, claim.Subject, past: false)} failed ({e.GetType().Name}); tried again next sweep.");
        }

        if (result.Route is { } route)
        {
            await trail.RecordAsync(claim, route, result.Target!, result.Status, result.ErrorCode, claim.ActionStartedAt!.Value, cancellationToken).ConfigureAwait(false);
            Wrote(claimed, "trail");
        }
        if (result.State == FindingActionState.Taken && claim.Action != FindingAction.Alert)
            LogActionTaken(logger, claim.Id, claim.Action, claim.Subject, result.Outcome);
        else if (result.State == FindingActionState.Skipped)
            LogActionSkipped(logger, claim.Id, claim.Action, claim.Subject, result.Outcome);

        // Only over this attempt's own claim (its number): one that took over after a timeout records its own.
        var (recorded, written) = await UpdateAsync(claimed, current =>
            current.ActionState == FindingActionState.Acting && current.ActionAttempts == claim.ActionAttempts
                ? current with { ActionState = result.State, ActionOutcome = result.Outcome.Length > 0 ? result.Outcome : null }
                : null, cancellationToken).ConfigureAwait(false);
        if (written)
            Wrote(recorded, "outcome");
        return recorded;
    }

    private async Task<StoredFinding> AlertAsync(StoredFinding stored, CancellationToken cancellationToken)
    {
        var finding = stored.Finding;
        try
        {
            await alerts.PublishAsync(FindingAlerts.For(finding), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Published again by the next retry; the sink's dedupe ledger keeps it to one.
            LogAlertFailed(logger, finding.Id, e.GetType().Name);
            return stored;
        }
        await trail.RecordAsync(finding, SweepTrail.AlertRoute, finding.Id, Microsoft.AspNetCore.Http.StatusCodes.Status202Accepted, null,
            finding.ActionStartedAt ?? finding.FoundAt, cancellationToken).ConfigureAwait(false);
        Wrote(stored, "alert trail");
        var (marked, written) = await UpdateAsync(stored, current => current.Alerted ? null : current with { Alerted = true }, cancellationToken).ConfigureAwait(false);
        if (written)
            Wrote(marked, "alerted");
        return marked;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the row as it is (null: nothing to write) and writes it by ETag, reading
    /// again after a lost race: an admin's ack in between is kept, and a change that no longer applies is not made.
    /// Written: this call's change is stored.
    /// </summary>
    private async Task<(StoredFinding Stored, bool Written)> UpdateAsync(StoredFinding stored, Func<Finding, Finding?> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (change(stored.Finding) is not { } changed)
                return (stored, false);
            if (await store.TryReplaceAsync(stored, changed, cancellationToken).ConfigureAwait(false) is { } written)
                return (written, true);
            if (await store.GetAsync(stored.Finding.Id, cancellationToken).ConfigureAwait(false) is not { } current)
                return (stored, false); // removed by retention: nothing left to record on
            stored = current;
        }
    }

    private void Wrote(StoredFinding stored, string write) => AfterWrite?.Invoke(stored.Finding.Id, write);

    private static bool IsStorageFailure(Exception e, CancellationToken cancellationToken) =>
        Admin.StorageFailure.Is(e) || e is Azure.RequestFailedException
        || e is OperationCanceledException && !cancellationToken.IsCancellationRequested;

    private static string WouldHave(FindingAction action, string subject, bool past = true) => action switch
    {
        FindingAction.Suspend => (past ? "suspended" : "suspending") + " the relay key of " + subject,
        FindingAction.Rotate => (past ? "started" : "starting") + " an emergency rotation of " + subject,
        _ => past ? "alerted" : "alerting",
    };
}
