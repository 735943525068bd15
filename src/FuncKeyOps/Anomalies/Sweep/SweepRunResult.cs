namespace FuncKeyOps.Anomalies.Sweep;

public enum SweepRunOutcome
{
    /// <summary>The run held the sweep and did what was due.</summary>
    Swept,
    /// <summary>Another instance holds the sweep: this run did nothing.</summary>
    LeaseHeld,
    /// <summary>The run lost the sweep part way (paused past its lease, another instance took over) and stopped without another write.</summary>
    LeaseLost,
}

/// <summary>What one run of <see cref="SweepRunner"/> did.</summary>
public sealed record SweepRunResult
{
    public required SweepRunOutcome Outcome { get; init; }
    public IReadOnlyList<SweptWindow> Windows { get; init; } = [];
    public long Rows { get; init; }
    public int Findings { get; init; }
    public TimeSpan Duration { get; init; }
    public IReadOnlyList<string> Warnings { get; init; } = [];
    /// <summary>The last closed window swept, as the run left the checkpoint.</summary>
    public SweepWindow? Checkpoint { get; init; }
    /// <summary>With <see cref="SweepRunOutcome.LeaseHeld"/>: who holds it, until when.</summary>
    public string? LeaseHolder { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
}

/// <summary>One window of a run: <see cref="Closed"/> ones moved the checkpoint; an open one is swept again once closed.</summary>
public sealed record SweptWindow(SweepWindow Window, bool Closed, long Rows, int Findings);
