using System.Diagnostics;
using FuncKeyOps.Rotation;

namespace FuncKeyOps.Telemetry;

/// <summary>The span of one rotation step (<see cref="RotationStepRunner.RunStepAsync"/>): which rotation, which step, what came of it.</summary>
internal static class RotationTelemetry
{
    public const string RotationId = "fko.rotation.id";
    public const string StepIndex = "fko.rotation.step.index";
    public const string StepKind = "fko.rotation.step.kind";
    public const string Status = "fko.rotation.status";
    public const string NextIndex = "fko.rotation.next_step.index";

    public static Activity? Start(Rotation.RotationId rotation, int index)
    {
        var span = FuncKeyOpsTelemetry.Source.StartActivity("rotation step", ActivityKind.Internal);
        span?.SetTag(RotationId, rotation.Id);
        span?.SetTag(RelayTelemetry.ProviderKeyName, rotation.KeyName);
        span?.SetTag(StepIndex, index);
        return span;
    }

    /// <summary>Once the step to run is known (a step already run, or not yet due, runs none).</summary>
    public static void Running(Activity? span, RotationStep step)
    {
        if (span is null)
            return;
        span.DisplayName = $"rotation step {step.Kind}";
        span.SetTag(StepKind, step.Kind.ToString());
    }

    public static void Finish(Activity? span, RotationStepResult result)
    {
        if (span is null)
            return;
        span.SetTag(Status, result.Status.ToString());
        span.SetTag(NextIndex, result.NextIndex);
        if (result.Status == RotationStatus.Failed)
            span.SetStatus(ActivityStatusCode.Error, "rotation failed");
    }

    /// <summary>The exception's type only: a connector's message may quote what the provider said about a key.</summary>
    public static void Failed(Activity? span, Exception exception)
    {
        span?.SetTag(GenAiConventions.ErrorType, exception.GetType().FullName);
        span?.SetStatus(ActivityStatusCode.Error);
    }
}
