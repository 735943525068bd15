namespace FuncKeyOps.Anomalies.Detection;

/// <summary>
/// The seam for the baseline detectors (<c>volume</c>, <c>tokens</c> relative part, <c>quiet_hours</c>): robust
/// statistics of one subject's metric for the hour-of-week of a window. Null while none exist or the subject is still in
/// its warm-up, and the baseline detectors stay silent then (the absolute ones still fire).
/// </summary>
public interface IBaselineLookup
{
    /// <param name="subject">As <see cref="Finding.Subject"/>: <c>relay-key:{id}</c>, <c>provider-key:{name}/{version}</c>.</param>
    /// <param name="metric">What is counted: <c>calls</c>, <c>tokens</c>, <c>errors</c>.</param>
    ValueTask<BaselineStats?> GetAsync(string subject, string metric, SweepWindow window, CancellationToken cancellationToken);
}

/// <summary>Median and median absolute deviation of a metric per window, over <paramref name="Samples"/> earlier windows.</summary>
public sealed record BaselineStats(double Median, double Mad, int Samples);

/// <summary>No baselines yet: every lookup answers none, so the baseline detectors say nothing.</summary>
public sealed class NoBaselines : IBaselineLookup
{
    public ValueTask<BaselineStats?> GetAsync(string subject, string metric, SweepWindow window, CancellationToken cancellationToken) =>
        ValueTask.FromResult<BaselineStats?>(null);
}
