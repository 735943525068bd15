using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation.Durable;

/// <summary>
/// The Durable Functions driver's orchestration body, written once over the host-agnostic
/// <see cref="TaskOrchestrationContext"/>: the Functions app's orchestrator trigger and the tests' in-process engine
/// both run exactly this. It runs the plan's steps through <see cref="RotationStepActivity"/>, holding between them
/// with durable timers that an <see cref="AbortEvent"/> interrupts.
/// </summary>
/// <remarks>
/// Deterministic for replay: time, waits and retries come only from the context (no clock, random or I/O here; the
/// step activity does all I/O), logs go through the replay-safe logger, and the only branching is on activity
/// results and events the engine records.
/// </remarks>
public static partial class RotationOrchestration
{
    public const string Name = "RotationOrchestration";

    /// <summary>Raised by <see cref="DurableRotationDriver.SignalAbortAsync"/> after the abort is recorded on the row.</summary>
    public const string AbortEvent = "abort";

    /// <summary>Runs the rotation from the input's step to a final status.</summary>
    /// <param name="input">The orchestration's input (the host reads it: a Functions trigger through
    /// <c>GetInput</c>, a typed registration by its parameter).</param>
    public static async Task<RotationStatus> RunAsync(TaskOrchestrationContext context, RotationStepInput input, RotationOrchestrationOptions? options = null)
    {
        options ??= RotationOrchestrationOptions.Default;
        var logger = context.CreateReplaySafeLogger(typeof(RotationOrchestration));
        var stepOptions = TaskOptions.FromRetryPolicy(options.StepRetry);
        var index = input.Index;
        for (var steps = 0; ; steps++)
        {
            if (steps == options.StepsPerGeneration)
            {
                // A fresh history from the step due next; an abort raised meanwhile is carried over (preserved events).
                context.ContinueAsNew(input with { Index = index }, preserveUnprocessedEvents: true);
                return RotationStatus.Running;
            }
            RotationStepResult result;
            try
            {
                result = await context.CallActivityAsync<RotationStepResult>(
                    RotationStepActivity.Name, input with { Index = index }, stepOptions);
            }
            catch (TaskFailedException failure)
            {
                LogStepFailed(logger, input.Rotation.ToString(), index, failure.FailureDetails.ErrorType, options.RetryAfterFailure);
                await HoldAsync(context, options.TimerFor(options.RetryAfterFailure));
                continue;
            }
            LogStep(logger, input.Rotation.ToString(), index, result.Status, result.NextIndex, result.Wait);
            if (result.IsFinal)
                return result.Status;
            index = result.NextIndex
                ?? throw new InvalidOperationException($"Step {index} of rotation {input.Rotation} is running but names no next step.");
            if (result.Wait > TimeSpan.Zero && await HoldAsync(context, options.TimerFor(result.Wait)))
                LogHoldInterrupted(logger, input.Rotation.ToString(), index);
        }
    }

    /// <summary>
    /// Waits <paramref name="wait"/> unless an abort arrives first (then the next step runs at once and, seeing the
    /// abort on the row, rolls back). The loser is cancelled, so a timer left behind cannot keep the instance
    /// running and a later abort is kept for the next hold instead of being consumed by a stale waiter.
    /// </summary>
    /// <returns>True when the abort ended the hold.</returns>
    private static async Task<bool> HoldAsync(TaskOrchestrationContext context, TimeSpan wait)
    {
        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(wait, cancel.Token);
        var abort = context.WaitForExternalEvent<object?>(AbortEvent, cancel.Token);
        var first = await Task.WhenAny(timer, abort);
        cancel.Cancel();
        return first == abort;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation {Rotation} step {Index}: {Status}, next {NextIndex} after {Wait}")]
    private static partial void LogStep(ILogger logger, string rotation, int index, RotationStatus status, int? nextIndex, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rotation {Rotation}: abort ended the hold; step {Index} runs now")]
    private static partial void LogHoldInterrupted(ILogger logger, string rotation, int index);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rotation {Rotation} step {Index} failed after its retries ({ErrorType}); trying it again in {RetryAfter}")]
    private static partial void LogStepFailed(ILogger logger, string rotation, int index, string errorType, TimeSpan retryAfter);
}
