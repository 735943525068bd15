namespace FuncKeyOps.Anomalies;

/// <summary>
/// What happens to a finding once a detector has it: stored (once, by its id), its policy's action taken (once) and
/// its alert published (once). The sweep hands every finding here, including ones a re-swept window finds again.
/// </summary>
public interface IFindingResponder
{
    /// <summary>
    /// Stores <paramref name="finding"/> unless its id is stored already, then takes what its policy asks that has not
    /// been taken. Idempotent: calling it again with the same finding changes nothing. Throws only when the finding
    /// could not be stored (the sweep then leaves its window to sweep again); a failed action is recorded on the
    /// finding and left to <see cref="RetryPendingAsync"/>.
    /// </summary>
    Task<Finding> RespondAsync(Finding finding, CancellationToken cancellationToken);

    /// <summary>Takes again the actions of stored findings that failed or were cut short (called once per sweep).</summary>
    Task RetryPendingAsync(CancellationToken cancellationToken);
}
