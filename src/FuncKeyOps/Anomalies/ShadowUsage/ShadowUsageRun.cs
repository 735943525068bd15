namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// What one <see cref="ShadowUsageCheck.RunAsync"/> found: findings to hand to the responder, warnings for the sweep's
/// status (a usage API or credential that failed; those hours are judged again next run), and the hours judged.
/// Nothing is marked judged until <see cref="ShadowUsageCheck.CommitAsync"/>: a run that stops before it is judged again.
/// </summary>
internal sealed record ShadowUsageRun
{
    public required IReadOnlyList<Finding> Findings { get; init; }
    public required IReadOnlyList<ShadowUsageWarning> Warnings { get; init; }

    /// <summary>Provider key version hours set against the relay's (hours × versions), for the sweep's status.</summary>
    public int HoursJudged { get; init; }

    internal IReadOnlyList<ShadowAdvance> Advances { get; init; } = [];
}

/// <summary>Why a provider key's usage was not judged this run (never a key or a key's part); it is tried again next run.</summary>
/// <param name="ProviderKey">The provider key's name; null for a failure of the whole check.</param>
internal sealed record ShadowUsageWarning(string? ProviderKey, string Detail);

/// <summary>A provider key's cursor as read (null when it had none) and where the run leaves it.</summary>
internal sealed record ShadowAdvance(ShadowCursor? Read, ShadowCursor Next);
