using FuncKeyOps.Anomalies.Sweep;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// Shadow usage as one of the sweep's per-run checks: the settled hours' judgements go to the responder, and the
/// judged hours are recorded only after that (<see cref="SweepCheckResult.Commit"/>).
/// </summary>
internal sealed class ShadowUsageSweepCheck(ShadowUsageCheck check) : ISweepCheck
{
    public string Name => Detectors.ShadowUsage;

    public async Task<SweepCheckResult> RunAsync(SweepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var run = await check.RunAsync(context.Now, cancellationToken).ConfigureAwait(false);
        return new SweepCheckResult
        {
            Findings = run.Findings,
            Warnings = [.. run.Warnings.Select(w => w.Detail)], // each names its provider key already
            Commit = token => check.CommitAsync(run, token),
        };
    }
}
