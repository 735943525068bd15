using System.Text.Json;

namespace FuncKeyOps.Rotation;

/// <summary>
/// A rotation as data: the steps a strategy produced, stored as JSON in the rotation's row so the row alone says
/// what runs next. The last step is always <see cref="RotationStepKind.Rollback"/>, reached only through an index a
/// step returns; finishing the step before it finishes the rotation.
/// </summary>
public sealed record RotationPlan(IReadOnlyList<RotationStep> Steps)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public int RollbackIndex => Steps.Count - 1;

    /// <summary>
    /// How long the plan waits after step <paramref name="index"/> completes: its hold, plus the grace of the step after
    /// it when that is a revoke (the grace counts from the moment the old version stopped getting new traffic).
    /// </summary>
    public TimeSpan WaitAfter(int index)
    {
        var wait = Steps[index].Hold ?? TimeSpan.Zero;
        if (index + 1 < Steps.Count && Steps[index + 1].Grace is { } grace)
            wait += grace;
        return wait;
    }

    public string ToJson() => JsonSerializer.Serialize(Steps, Json);

    public static RotationPlan FromJson(string json) =>
        new(JsonSerializer.Deserialize<List<RotationStep>>(json, Json) ?? throw new FormatException("The stored plan is empty."));
}
