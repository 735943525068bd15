namespace FuncKeyOps.Rotation;

/// <param name="Holds">Overrides every hold of the plan (drills, tests), and its revoke grace only when longer (the grace never goes below the staleness bound); null keeps the policy's.</param>
/// <param name="Trigger">Who asked: <c>admin</c>, <c>schedule</c> (past its period) or <c>anomaly</c> (containment).</param>
public sealed record RotationRequest(string KeyName, RotationStrategy Strategy, string Reason, TimeSpan? Holds = null, string Trigger = "admin");
