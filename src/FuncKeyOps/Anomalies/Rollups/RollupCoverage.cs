namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// How a time range is read: the complete days, hours and windows inside it from their rollups, and only what is
/// left (the edges that cut a window, the open edge after the last complete window, a stretch never swept) from the
/// raw audit rows. A deployment that never swept has no markers, so everything is raw, as before rollups existed.
/// </summary>
internal sealed record RollupCoverage(
    IReadOnlyList<RollupPeriod> Periods,
    IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> Raw)
{
    private static readonly RollupLevel[] Coarsest = [RollupLevel.Day, RollupLevel.Hour, RollupLevel.Window];

    /// <summary>
    /// Days first, then hours in what days did not cover, then windows: one range of markers per level and uncovered
    /// stretch, so a month of complete days costs one read of 31 markers, not 8,928 windows'.
    /// </summary>
    public static async Task<RollupCoverage> PlanAsync(
        RollupStore store,
        DateTimeOffset from,
        DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        var periods = new List<RollupPeriod>();
        var open = new List<(DateTimeOffset From, DateTimeOffset To)>();
        if (from < to)
            open.Add((from, to));
        foreach (var level in Coarsest)
        {
            var left = new List<(DateTimeOffset From, DateTimeOffset To)>();
            foreach (var (start, end) in open)
            {
                var first = RollupPeriod.AtOrAfter(level, start);
                if (first.End > end)
                {
                    left.Add((start, end)); // no whole period of this level inside
                    continue;
                }
                var complete = await store.CompleteAsync(level, first.Start, end, cancellationToken).ConfigureAwait(false);
                var cursor = start;
                for (var period = first; period.End <= end; period = period.Next)
                {
                    if (!complete.Contains(period.Start))
                        continue;
                    if (cursor < period.Start)
                        left.Add((cursor, period.Start));
                    periods.Add(period);
                    cursor = period.End;
                }
                if (cursor < end)
                    left.Add((cursor, end));
            }
            open = left;
        }
        return new RollupCoverage(periods, open);
    }
}
