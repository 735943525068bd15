using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.RelayKeys;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// Suspends the relay key a finding names. Idempotent: suspending a suspended key changes nothing. The relay refuses a
/// suspended key with 401 in the provider's own error shape; <c>POST relay-keys/{id}/resume</c> lifts it.
/// </summary>
internal sealed class RelayKeySuspension(RelayKeyService keys)
{
    public async Task<ActionResult> SuspendAsync(Finding finding, CancellationToken cancellationToken)
    {
        if (!FindingSubject.TryRelayKey(finding.Subject, out var id))
            return new ActionResult(FindingActionState.Skipped, "The subject names no relay key; nothing was suspended.");
        try
        {
            if (await keys.SuspendAsync(id, cancellationToken).ConfigureAwait(false) is null)
            {
                // Only a well-formed id is echoed, as the admin API does: anything else may be a pasted key.
                var known = RelayKeyFormat.IsId(id);
                return new ActionResult(FindingActionState.Skipped, known ? $"No relay key has id '{id}'; nothing was suspended." : "No relay key has this id; nothing was suspended.",
                    SweepTrail.SuspendRoute, known ? id : "sha256:" + AdminTrail.Fingerprint(id), StatusCodes.Status404NotFound, FuncKeyOpsErrors.NotFound.Code);
            }
        }
        catch (RelayKeyConflictException)
        {
            return new ActionResult(FindingActionState.Skipped, $"Relay key {id} is revoked already; nothing was suspended.",
                SweepTrail.SuspendRoute, id, StatusCodes.Status409Conflict, FuncKeyOpsErrors.Conflict.Code);
        }
        return new ActionResult(FindingActionState.Taken, $"Relay key {id} suspended; POST relay-keys/{id}/resume lifts it.",
            SweepTrail.SuspendRoute, id, StatusCodes.Status200OK);
    }
}
