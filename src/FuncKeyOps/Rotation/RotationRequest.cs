namespace FuncKeyOps.Rotation;

/// <param name="Holds">Overrides every hold and grace of the plan (drills, tests); null keeps the policy's.</param>
/// <param name="Trigger">Who asked: <c>admin</c>, <c>schedule</c> (past its period) or <c>anomaly</c> (containment).</param>
public sealed record RotationRequest(string KeyName, RotationStrategy Strategy, string Reason, TimeSpan? Holds = null, string Trigger = "admin");
