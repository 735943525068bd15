namespace FuncKeyOps.Rotation.Schedule;

/// <summary>What one run of <see cref="RotationSchedule"/> did, key by key.</summary>
public sealed record ScheduleRun(DateTimeOffset Time, IReadOnlyList<ScheduledKey> Keys)
{
    public IEnumerable<ScheduledKey> With(ScheduleAction action) => Keys.Where(k => k.Action == action);
}

/// <param name="Age">How old the active version is; null when no active version was found.</param>
/// <param name="Rotation">The rotation started, or the one already running.</param>
public sealed record ScheduledKey(string KeyName, ScheduleAction Action, TimeSpan? Age = null, RotationId? Rotation = null);

public enum ScheduleAction
{
    /// <summary>Within its period and not yet in the warning window.</summary>
    None,
    /// <summary>Past its period: a rotation was started.</summary>
    RotationStarted,
    /// <summary>Past its period, and a rotation of it is already running.</summary>
    AlreadyRotating,
    /// <summary>In its warning window: <c>key.rotation_due</c> published.</summary>
    Warned,
    /// <summary>Nothing to age: no active version, or an unreadable policy (logged).</summary>
    Skipped,
    /// <summary>The vault or the starter failed for this key (logged); the next run tries again.</summary>
    Failed,
}
