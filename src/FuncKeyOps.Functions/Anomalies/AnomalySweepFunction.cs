using FuncKeyOps.Anomalies.Sweep;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Anomalies;

/// <summary>
/// The anomaly sweep, every 5 minutes by default: the app setting <c>Anomalies:Schedule</c> (<c>Anomalies__Schedule</c>;
/// NCRONTAB with seconds, <c>0 */5 * * * *</c>), which the host needs to index the function. Every instance may fire;
/// the checkpoint's lease lets one sweep.
/// </summary>
public sealed class AnomalySweepFunction(SweepRunner runner)
{
    public const string ScheduleSetting = "%Anomalies:Schedule%";

    [Function("AnomalySweep")]
    public Task Run([TimerTrigger(ScheduleSetting)] TimerInfo timer, FunctionContext context) =>
        runner.RunAsync(includeOpenWindow: false, context.CancellationToken);
}
