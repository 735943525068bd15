namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// Takes a closed window's tally and findings once the detectors are done, before the checkpoint moves past it (hourly
/// rollups, baselines with the windows raised as findings left out, known sources). Registered with
/// <c>TryAddEnumerable</c>. Must be idempotent: a window is handed again when the run stopped before its checkpoint write.
/// A sink that throws fails the run; the window is swept again next run.
/// </summary>
public interface IClosedWindowSink
{
    Task WriteAsync(WindowTally tally, IReadOnlyList<Finding> findings, CancellationToken cancellationToken);
}
