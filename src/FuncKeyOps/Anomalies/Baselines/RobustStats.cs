namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// Median and median absolute deviation: a burst or an outage among the samples moves them little, where a mean
/// and standard deviation would follow it. Written here: a handful of samples needs no statistics library.
/// </summary>
internal static class RobustStats
{
    public static (double Median, double Mad) Of(IReadOnlyList<double> samples)
    {
        if (samples.Count == 0)
            return (0, 0);
        var median = Median(samples);
        return (median, Median([.. samples.Select(s => Math.Abs(s - median))]));
    }

    private static double Median(IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
