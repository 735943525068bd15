namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// The one seam between the baselines and the detectors that read them (<c>volume</c>, <c>tokens</c>' relative part,
/// <c>quiet_hours</c>): the sweep loads the baselines of a window's hour once per hour and hands them to every detector
/// in <see cref="Detection.DetectionContext.Baselines"/>. <see cref="BaselineLookup"/> reads the <c>baselines</c> table.
/// </summary>
public interface IBaselineLookup
{
    /// <summary>Every subject's baseline for the windows of the hour holding <paramref name="time"/>.</summary>
    Task<BaselineHour> LoadAsync(DateTimeOffset time, CancellationToken cancellationToken);
}
