namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// What one attempt at a finding's action came to: its state and the words for the finding, and the admin-trail row
/// that records it (the route and target of the admin call that makes the same change, and how that call would have
/// answered); no row when the action changes nothing outside the finding.
/// </summary>
internal sealed record ActionResult(FindingActionState State, string Outcome, string? Route = null, string? Target = null, int Status = 0, string? ErrorCode = null)
{
    public static ActionResult Failed(string outcome) => new(FindingActionState.Failed, outcome);
}
