namespace FuncKeyOps.Anomalies.Findings;

/// <summary>A finding as the admin API shows it: enums by their lower-case names, the ones the list's filters take.</summary>
internal sealed record FindingView
{
    public required string Id { get; init; }
    public required string Detector { get; init; }
    public required string Subject { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }
    public string? Tenant { get; init; }
    public required double Observed { get; init; }
    public double? Baseline { get; init; }
    public required double Threshold { get; init; }
    public required string Severity { get; init; }
    public required string Summary { get; init; }
    public required string Action { get; init; }
    public required string ActionState { get; init; }
    public string? ActionOutcome { get; init; }
    public int ActionAttempts { get; init; }
    public DateTimeOffset? ActionStartedAt { get; init; }
    public bool Alerted { get; init; }
    public required string Status { get; init; }
    public string? ChangedBy { get; init; }
    public DateTimeOffset? ChangedAt { get; init; }
    public required DateTimeOffset FoundAt { get; init; }
    public IReadOnlyDictionary<string, string>? Details { get; init; }

    public static FindingView From(Finding f) => new()
    {
        Id = f.Id,
        Detector = f.Detector,
        Subject = f.Subject,
        WindowStart = f.WindowStart,
        WindowEnd = f.WindowEnd,
        Tenant = f.Tenant,
        Observed = f.Observed,
        Baseline = f.Baseline,
        Threshold = f.Threshold,
        Severity = Name(f.Severity),
        Summary = f.Summary,
        Action = Name(f.Action),
        ActionState = Name(f.ActionState),
        ActionOutcome = f.ActionOutcome,
        ActionAttempts = f.ActionAttempts,
        ActionStartedAt = f.ActionStartedAt,
        Alerted = f.Alerted,
        Status = Name(f.Status),
        ChangedBy = f.ChangedBy,
        ChangedAt = f.ChangedAt,
        FoundAt = f.FoundAt,
        Details = f.Details,
    };

    public static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    /// <summary>A status as the list's <c>status</c> filter names it (<c>open</c>, <c>acknowledged</c>, <c>resolved</c>).</summary>
    public static bool TryStatus(string text, out FindingStatus status)
    {
        foreach (var candidate in Enum.GetValues<FindingStatus>())
        {
            if (Name(candidate) == text)
            {
                status = candidate;
                return true;
            }
        }
        status = default;
        return false;
    }
}
