using Azure;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// The sweep's one row in the <c>anomalies</c> table: the last closed window swept, who holds the sweep until when, and
/// what the last run saw. Every write is conditional on <see cref="ETag"/>, so a writer that lost the row writes nothing.
/// </summary>
public sealed record SweepCheckpoint
{
    /// <summary>The last window swept closed; null before the first run.</summary>
    public SweepWindow? LastWindow { get; init; }
    public string? LeaseOwner { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public DateTimeOffset? LastRunAt { get; init; }
    public TimeSpan? LastRunDuration { get; init; }
    public long LastRunRows { get; init; }
    public int LastRunWindows { get; init; }
    public int LastRunFindings { get; init; }
    /// <summary>How far behind the sweep was when the last run ended: that time minus the end of <see cref="LastWindow"/>.</summary>
    public TimeSpan? LastRunLag { get; init; }
    /// <summary>What the last run could not do (a check that failed softly); bounded, names and numbers only.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
    public ETag ETag { get; init; }

    public bool IsLeasedAt(DateTimeOffset now) => !string.IsNullOrEmpty(LeaseOwner) && LeaseUntil > now;
}
