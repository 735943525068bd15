using FuncKeyOps.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// Runs <see cref="SweepRunner"/> at each occurrence of <see cref="AnomalyOptions.Schedule"/>: the Server host's
/// counterpart of the Functions app's timer trigger. Every instance runs it; the checkpoint's lease lets one of them
/// sweep and the others find it held. A missed occurrence needs no run of its own: the next sweeps every closed window.
/// </summary>
public sealed class SweepScheduleService(
    SweepRunner runner,
    IOptions<AnomalyOptions> options,
    TimeProvider time,
    ILogger<SweepScheduleService> logger)
    : CronBackgroundService<SweepRunResult>("Anomaly sweep", "Anomalies:Schedule", options.Value.Schedule, time, logger)
{
    protected override Task<SweepRunResult> RunJobAsync(CancellationToken cancellationToken) =>
        runner.RunAsync(includeOpenWindow: false, cancellationToken);
}
