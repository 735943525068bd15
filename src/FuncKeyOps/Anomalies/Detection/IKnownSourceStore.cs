namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// The seam for <c>new_source</c>: the sources (<see cref="Sweep.SourceKey"/>) a relay key was seen from in the 30 days
/// before a window. Learning a closed window's sources is an <see cref="Sweep.IClosedWindowSink"/>'s job.
/// </summary>
public interface IKnownSourceStore
{
    /// <summary>The key's known sources; empty for a key with no history yet (its first sources are learnt, not flagged).</summary>
    ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="GetAsync(string, SweepWindow, CancellationToken)"/> within one sweep run
    /// (<see cref="DetectionContext.RunId"/>): a store may answer from what it read earlier in the same run.
    /// </summary>
    ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, string runId, CancellationToken cancellationToken) =>
        GetAsync(relayKeyId, before, cancellationToken);
}

/// <summary>No history kept yet: every key is new, and a new-source detector must stay silent for it.</summary>
public sealed class NoKnownSources : IKnownSourceStore
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();

    public ValueTask<IReadOnlySet<string>> GetAsync(string relayKeyId, SweepWindow before, CancellationToken cancellationToken) =>
        ValueTask.FromResult(None);
}
