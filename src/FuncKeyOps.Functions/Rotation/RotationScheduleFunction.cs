using FuncKeyOps.Rotation;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Functions.Rotation;

/// <summary>
/// The daily rotation schedule: starts rotations of keys past their period and alerts for keys in their warning
/// window. When it runs is the app setting <c>Rotation:Schedule</c> (<c>Rotation__Schedule</c>; NCRONTAB with
/// seconds, e.g. <c>0 0 3 * * *</c> for 03:00 UTC daily); the host refuses to index the function without it.
/// </summary>
public sealed class RotationScheduleFunction(RotationSchedule schedule, DurableClientSource durableClients)
{
    public const string ScheduleSetting = "%Rotation:Schedule%";

    [Function("RotationSchedule")]
    public Task Run([TimerTrigger(ScheduleSetting)] TimerInfo timer, [DurableClient] DurableTaskClient durable, FunctionContext context)
    {
        durableClients.Use(durable);
        return schedule.RunAsync(context.CancellationToken);
    }
}
