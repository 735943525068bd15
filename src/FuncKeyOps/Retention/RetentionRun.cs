namespace FuncKeyOps.Retention;

/// <summary>What one <see cref="RetentionJob"/> run removed, and the cut-offs it removed before.</summary>
public sealed record RetentionRun
{
    public required DateTimeOffset Time { get; init; }
    public required DateTimeOffset AuditCutoff { get; init; }
    public required DateTimeOffset FindingsCutoff { get; init; }
    public required DateTimeOffset RollupsCutoff { get; init; }
    public required DateTimeOffset BaselinesCutoff { get; init; }

    /// <summary>The monthly audit tables (logical names, <c>audityyyyMM</c>) this run dropped; one another instance dropped first is not here.</summary>
    public required IReadOnlyList<string> DroppedAuditTables { get; init; }

    public required int FindingsDeleted { get; init; }

    /// <summary>Rollup cells, markers and pending rows of the periods removed.</summary>
    public required int RollupRowsDeleted { get; init; }

    /// <summary>Baseline rows (hours-of-week, and the first sighting of a subject with none left).</summary>
    public required int BaselineRowsDeleted { get; init; }

    /// <summary>Sources of relay keys last seen a day past <c>new_source</c>'s 30 days.</summary>
    public required int KnownSourcesDeleted { get; init; }
}
