using Microsoft.DurableTask;

namespace FuncKeyOps.Rotation.Durable;

/// <summary>How the rotation orchestration retries its steps and bounds its history; constants, not settings,
/// since an orchestration replays with whatever they are when it resumes.</summary>
public sealed record RotationOrchestrationOptions
{
    public static readonly RotationOrchestrationOptions Default = new();

    /// <summary>
    /// Retries of one step activity (a storage or vault blip): 1, 2, 4 ... 60 s apart, about 4 minutes in all.
    /// Safe because a step is idempotent: a step that failed after its first write, run again, writes nothing twice.
    /// </summary>
    public RetryPolicy StepRetry { get; init; } = new(
        maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2,
        maxRetryInterval: TimeSpan.FromMinutes(1));

    /// <summary>
    /// After <see cref="StepRetry"/> gives up, the orchestration waits this long (an abort still interrupts it) and
    /// tries the same step again, instead of failing: a failed instance would leave the rotation row <c>Running</c>
    /// with nothing driving it until an operator noticed.
    /// </summary>
    public TimeSpan RetryAfterFailure { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Steps run before the orchestration continues as new. Each step adds its activity, timer and event records to
    /// the instance history, which every replay reads in full; a plan that polls (waiting for an operator's staged
    /// value, the same index again) could otherwise grow it without bound.
    /// </summary>
    public int StepsPerGeneration { get; init; } = 50;
}
