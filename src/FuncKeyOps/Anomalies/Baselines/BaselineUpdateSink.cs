using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Anomalies.Rollups;
using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>
/// Keeps the baselines up to date from the sweep: once the window that ends an hour is swept and that hour's rollup is
/// complete, computes the next hour's baselines (the hour about to be judged), leaving out every sample window raised
/// as a finding (read from the findings store, so findings of any earlier run count, not only this one's).
/// </summary>
/// <remarks>
/// A closed-window sink rather than a per-run check: it must run once per closed hour, in step with the checkpoint, and
/// before the next hour's first window is swept (so that window is judged on fresh baselines), also when one run
/// catches up on several hours. A sink is handed each closed window exactly then, after the rollup sink (registered
/// before it) has compacted the hour. Crash-safe by being idempotent: a cut run hands the window again, and the builder
/// overwrites the same rows from the same rollups; the findings it leaves out only ever grow.
/// </remarks>
internal sealed class BaselineUpdateSink(RollupStore rollups, BaselineBuilder builder, FindingStore findings) : IClosedWindowSink
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public async Task WriteAsync(WindowTally tally, IReadOnlyList<Finding> found, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        var next = tally.Window.End;
        if (next.UtcTicks % Hour.Ticks != 0)
            return;
        var hour = next - Hour;
        // An hour not wholly swept (the sweep's first run began inside it) is unknown, not quiet: the next hour keeps
        // the baselines its hour-of-week had, and the hours after it are updated as usual.
        var complete = await rollups.CompleteAsync(RollupLevel.Hour, hour, next, cancellationToken).ConfigureAwait(false);
        if (!complete.Contains(hour))
            return;
        var excluded = new HashSet<(string Subject, DateTimeOffset Window)>();
        foreach (var sample in BaselineBuilder.SampleHours(next))
        {
            await foreach (var raised in findings.RaisedAsync(sample, sample + Hour, cancellationToken).ConfigureAwait(false))
                excluded.Add(raised);
        }
        await builder.UpdateAsync(next, excluded, cancellationToken).ConfigureAwait(false);
    }
}
