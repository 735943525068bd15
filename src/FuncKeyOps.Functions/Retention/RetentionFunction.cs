using FuncKeyOps.Retention;
using Microsoft.Azure.Functions.Worker;

namespace FuncKeyOps.Functions.Retention;

/// <summary>
/// The daily retention run: the app setting <c>Retention:Schedule</c> (<c>Retention__Schedule</c>; NCRONTAB with seconds,
/// <c>0 0 4 * * *</c> for 04:00 UTC), which the host needs to index the function. Every instance may fire; a second run
/// finds the work done.
/// </summary>
public sealed class RetentionFunction(RetentionJob job)
{
    public const string ScheduleSetting = "%Retention:Schedule%";

    [Function("Retention")]
    public Task Run([TimerTrigger(ScheduleSetting)] TimerInfo timer, FunctionContext context) =>
        job.RunAsync(context.CancellationToken);
}
