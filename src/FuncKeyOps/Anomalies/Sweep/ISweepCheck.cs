namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// A check the sweep runs once per run, after its windows, on something other than one window's audit rows (shadow
/// usage from the providers' own reports, budgets). Registered with <c>TryAddEnumerable</c>. Its findings go to the
/// <see cref="IFindingResponder"/> like the detectors'; its warnings (a provider that did not answer, a missing
/// credential) go on the sweep's status and never fail the run: it is asked again next run.
/// </summary>
public interface ISweepCheck
{
    /// <summary>Names it in spans, logs and warnings.</summary>
    string Name { get; }

    Task<SweepCheckResult> RunAsync(SweepContext context, CancellationToken cancellationToken);
}

/// <summary>What a run of the sweep tells its checks.</summary>
public sealed record SweepContext
{
    public required DateTimeOffset Now { get; init; }
    public required AnomalyOptions Options { get; init; }
    /// <summary>The last closed window swept (the checkpoint as this run leaves it): settled audit rows reach its end.</summary>
    public required SweepWindow LastClosedWindow { get; init; }
}

public sealed record SweepCheckResult
{
    public static readonly SweepCheckResult Empty = new();

    public IReadOnlyList<Finding> Findings { get; init; } = [];
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>
    /// Run once every finding is with the <see cref="IFindingResponder"/>: where the check records what it has judged,
    /// so a run cut before then judges the same again (same ids) rather than losing a finding.
    /// </summary>
    public Func<CancellationToken, Task>? Commit { get; init; }
}
