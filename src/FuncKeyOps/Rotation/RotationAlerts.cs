using FuncKeyOps.Alerts;

namespace FuncKeyOps.Rotation;

/// <summary>The alerts a rotation sends, each with a DedupeKey <c>{rotationId}/{step}/{kind}</c>, so a re-run step publishes it once.</summary>
internal static class RotationAlerts
{
    public const string Started = "rotation.started";
    public const string Shifted = "rotation.shifted";
    public const string RolledBack = "rotation.rolled_back";
    public const string Succeeded = "rotation.succeeded";
    public const string Failed = "rotation.failed";
    public const string Aborted = "rotation.aborted";
    public const string RevokeManually = "rotation.revoke_manually";

    public static Alert For(RotationRecord rotation, string step, string kind, string message, DateTimeOffset time, IReadOnlyDictionary<string, string>? details = null)
    {
        var all = new Dictionary<string, string>
        {
            ["rotationId"] = rotation.Id,
            ["strategy"] = rotation.Strategy.ToName(),
            ["trigger"] = rotation.Trigger,
        };
        foreach (var (key, value) in details ?? new Dictionary<string, string>())
            all[key] = value;
        return new Alert(kind, rotation.KeyName, $"Rotation {rotation.Id} of provider key '{rotation.KeyName}': {message}",
            $"{rotation.Id}/{step}/{kind}", time, all);
    }

    /// <summary>
    /// The start alert. A <c>holds</c> override (drills, tests) replaces every hold (and the revoke grace when longer
    /// than it: the grace never goes below the staleness bound), so the alert says so, with the duration (also as the <c>holdsOverride</c> detail): an operator reading it must not
    /// take a rotation that skips its holds for one that served them.
    /// </summary>
    public static Alert ForStart(RotationRecord rotation, RotationRequest request, DateTimeOffset time)
    {
        var message = $"started ({request.Strategy.ToName()}, {request.Trigger}): {request.Reason}";
        if (request.Holds is not { } holds)
            return For(rotation, "start", Started, message, time);
        var duration = System.Xml.XmlConvert.ToString(holds);
        return For(rotation, "start", Started, $"{message}; holds overridden: every hold is {duration} (the revoke grace is at least the staleness bound)", time,
            new Dictionary<string, string> { ["holdsOverride"] = duration });
    }

    /// <summary>
    /// To every registered sink (the alert sinks' registration decides which: webhook, log); with none registered the
    /// rotation's own log lines are all there is.
    /// </summary>
    public static async Task PublishAsync(IEnumerable<IAlertSink> sinks, Alert alert, CancellationToken cancellationToken)
    {
        foreach (var sink in sinks)
            await sink.PublishAsync(alert, cancellationToken).ConfigureAwait(false);
    }

    public static string ForFinal(RotationStatus status) => status switch
    {
        RotationStatus.Succeeded => Succeeded,
        RotationStatus.RolledBack => RolledBack,
        RotationStatus.Aborted => Aborted,
        _ => Failed,
    };
}
