using FuncKeyOps.Errors;

namespace FuncKeyOps.Admin;

/// <summary>
/// Who a call to a gated route comes from: the outcome, the actor its admin event names (the admin key's fingerprint,
/// or <c>relay-key:{id}</c>), and for a refusal the error and message to answer with when not the admin key's own, and
/// when to try again (<see cref="AdminAuthOutcome.Limited"/>).
/// </summary>
internal readonly record struct GateCheck(AdminAuthOutcome Outcome, string? Actor, FuncKeyOpsError? Error = null, string? Message = null, TimeSpan? RetryAfter = null);
