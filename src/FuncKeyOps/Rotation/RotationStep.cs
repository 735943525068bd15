using System.Text.Json.Serialization;

namespace FuncKeyOps.Rotation;

[JsonConverter(typeof(JsonStringEnumConverter<RotationStepKind>))]
public enum RotationStepKind
{
    /// <summary>Emergency only: the compromised serving version is revoked at the provider and stops serving at once.</summary>
    Contain,
    /// <summary>A new key from the connector (or an operator's staged value) as a pending vault version.</summary>
    Create,
    /// <summary>The provider accepts the new value (a list-models call).</summary>
    Validate,
    /// <summary>Routing weights {new: weight, old: 100 - weight}, then <see cref="RotationStep.Hold"/>.</summary>
    Shift,
    /// <summary>The new version's error rate in the audit rows since its last shift; over the limit, the plan rolls back.</summary>
    Analyze,
    /// <summary>After <see cref="RotationStep.Grace"/>, the old version is revoked at the provider and disabled in the vault.</summary>
    Revoke,
    /// <summary>The last step of every plan, reached only through a returned index (analysis failed, abort).</summary>
    Rollback,
}

/// <summary>One step of a <see cref="RotationPlan"/>; only the members of its kind are set.</summary>
public sealed record RotationStep(RotationStepKind Kind)
{
    /// <summary>Shift: the new version's percentage of the traffic.</summary>
    public int? Weight { get; init; }

    /// <summary>How long the plan waits after this step (shift; blue-green's validate).</summary>
    public TimeSpan? Hold { get; init; }

    /// <summary>Analyze: the error rate (0..1) above which the plan rolls back.</summary>
    public double? MaxErrorRate { get; init; }

    /// <summary>Analyze: fewer calls than this on the new version say nothing, and pass.</summary>
    public int? MinRequests { get; init; }

    /// <summary>Revoke: how long after the previous step the old version stays alive, so no instance still sends it.</summary>
    public TimeSpan? Grace { get; init; }

    public static RotationStep Contain() => new(RotationStepKind.Contain);
    public static RotationStep Create() => new(RotationStepKind.Create);
    public static RotationStep Validate(TimeSpan? hold = null) => new(RotationStepKind.Validate) { Hold = hold };
    public static RotationStep Shift(int weight, TimeSpan hold) => new(RotationStepKind.Shift) { Weight = weight, Hold = hold };
    public static RotationStep Analyze(double maxErrorRate, int minRequests) => new(RotationStepKind.Analyze) { MaxErrorRate = maxErrorRate, MinRequests = minRequests };
    public static RotationStep Revoke(TimeSpan grace) => new(RotationStepKind.Revoke) { Grace = grace };
    public static RotationStep Rollback() => new(RotationStepKind.Rollback);

    /// <summary>The name the history and the status call show: <c>shift 25%</c>, <c>revoke</c>.</summary>
    public string Name => Kind == RotationStepKind.Shift ? $"shift {Weight}%" : Kind.ToString().ToLowerInvariant();

    public override string ToString() => Name;
}
