using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Anomalies.Rollups;

/// <summary>
/// Stores each closed window's rollup (counted in the sweep's one pass, <see cref="WindowTally.Rollup"/>) before the
/// checkpoint moves past it, then compacts the hours and days that became complete. Both writes overwrite, so a window
/// handed again after a cut run changes nothing.
/// </summary>
internal sealed class RollupWindowSink(RollupStore store, TimeProvider time) : IClosedWindowSink
{
    public async Task WriteAsync(WindowTally tally, IReadOnlyList<Finding> findings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        await store.WriteWindowAsync(tally.Rollup, cancellationToken).ConfigureAwait(false);
        await store.CompactAsync(time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
    }
}
