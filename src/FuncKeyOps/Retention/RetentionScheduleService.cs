using FuncKeyOps.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Retention;

/// <summary>
/// Runs <see cref="RetentionJob"/> at each occurrence of <see cref="RetentionOptions.Schedule"/>: the Server host's
/// counterpart of the Functions app's timer trigger. Every instance runs it; the second finds the work done.
/// </summary>
public sealed class RetentionScheduleService(
    RetentionJob job,
    IOptions<RetentionOptions> options,
    TimeProvider time,
    ILogger<RetentionScheduleService> logger)
    : CronBackgroundService<RetentionRun>("Retention", "Retention:Schedule", options.Value.Schedule, time, logger)
{
    protected override Task<RetentionRun> RunJobAsync(CancellationToken cancellationToken) => job.RunAsync(cancellationToken);
}
