using Microsoft.DurableTask;

namespace FuncKeyOps.Rotation.Durable;

/// <summary>How the rotation orchestration retries its steps and bounds its history; constants, not settings,
/// since an orchestration replays with whatever they are when it resumes.</summary>
public sealed record RotationOrchestrationOptions
{
    public static readonly RotationOrchestrationOptions Default = new();

    /// <summary>For the Azure Storage task hub (the Functions app's, host.json): its timers are whole seconds.</summary>
    public static readonly RotationOrchestrationOptions AzureStorage = new() { TimerResolution = TimeSpan.FromSeconds(1) };

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

    /// <summary>
    /// The granularity of the backend's timers; zero (the default) for a backend whose timers fire when set. Azure
    /// Storage makes a durable timer an invisible queue message whose delay is sent in whole seconds, the fraction
    /// dropped, so a timer fires up to a second early; the step it wakes finds its hold not over and asks for the
    /// rest, whose timer (under a second) fires at once: a burst of step activities at the end of every hold, each in
    /// the history, counted against <see cref="StepsPerGeneration"/>. With a resolution, a hold's timer is set for its
    /// wait rounded up to it plus one unit, which a truncated delay still covers (the hold lasts up to a unit longer).
    /// </summary>
    public TimeSpan TimerResolution { get; init; }

    /// <summary>The timer to set so that it fires no earlier than <paramref name="wait"/> (see <see cref="TimerResolution"/>).</summary>
    public TimeSpan TimerFor(TimeSpan wait)
    {
        if (TimerResolution <= TimeSpan.Zero)
            return wait;
        var units = (wait.Ticks + TimerResolution.Ticks - 1) / TimerResolution.Ticks;
        return TimeSpan.FromTicks((units + 1) * TimerResolution.Ticks);
    }
}
