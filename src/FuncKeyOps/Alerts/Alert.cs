namespace FuncKeyOps.Alerts;

/// <summary>
/// Something an operator must hear about: a rotation's start, weight change, rollback, completion or failure, a key in
/// its warning window, later anomaly findings. Never carries a secret or a prompt.
/// </summary>
/// <param name="Kind">Stable, machine-readable: <c>rotation.started</c>, <c>rotation.shifted</c>, <c>rotation.rolled_back</c>,
/// <c>rotation.succeeded</c>, <c>rotation.failed</c>, <c>rotation.aborted</c>, <c>rotation.revoke_manually</c>, <c>key.rotation_due</c>.</param>
/// <param name="Subject">What it is about, e.g. the provider key name.</param>
/// <param name="DedupeKey">Alerts with the same key are sent once (a re-run step, a daily warning repeated the same day).</param>
public sealed record Alert(string Kind, string Subject, string Message, string DedupeKey, DateTimeOffset Time,
    IReadOnlyDictionary<string, string>? Details = null);
