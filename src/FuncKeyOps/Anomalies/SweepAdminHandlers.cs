using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Anomalies;

/// <summary><c>POST sweeps/run</c> and <c>GET sweeps</c>, behind <see cref="AdminEndpoint"/>.</summary>
public static class SweepAdminHandlers
{
    /// <summary>
    /// Sweeps now: the closed windows since the checkpoint, then the open ones up to now (swept again once closed, their
    /// findings keeping their ids). 200 with what was swept; 409 <c>conflict</c> with Retry-After while another instance
    /// holds the sweep. Bounded by <c>Admin:StorageTimeout</c> like every admin call: a run cut short keeps the windows it
    /// finished, and the next run goes on from there.
    /// </summary>
    public static async Task RunAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var result = await services.GetRequiredService<SweepRunner>().RunAsync(includeOpenWindow: true, context.RequestAborted).ConfigureAwait(false);
        if (result.Outcome == SweepRunOutcome.LeaseHeld)
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var wait = result.LeaseUntil is { } until && until > now ? until - now : TimeSpan.FromSeconds(1);
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"Another instance is sweeping (its lease runs to {result.LeaseUntil:O}); try again once it has finished.", wait).ConfigureAwait(false);
            return;
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new
        {
            outcome = Outcome(result.Outcome),
            windows = result.Windows.Select(w => new { id = w.Window.Id, start = w.Window.Start, end = w.Window.End, closed = w.Closed, rows = w.Rows, findings = w.Findings }),
            rows = result.Rows,
            findings = result.Findings,
            durationMs = Math.Round(result.Duration.TotalMilliseconds, 1),
            checkpoint = Window(result.Checkpoint),
            warnings = result.Warnings,
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// The sweep's state: the checkpoint (last closed window swept), the lag now (time since its end), the last run's
    /// time, duration, rows, windows, findings and warnings, and the lease's holder while one holds it. Before any run:
    /// every field null or zero.
    /// </summary>
    public static async Task GetAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var row = await services.GetRequiredService<SweepCheckpointStore>().ReadAsync(context.RequestAborted).ConfigureAwait(false);
        var leased = row?.IsLeasedAt(now) == true;
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new
        {
            checkpoint = Window(row?.LastWindow),
            lagSeconds = row?.LastWindow is { } last ? Math.Round((now - last.End).TotalSeconds, 1) : (double?)null,
            lastRun = row?.LastRunAt is { } at ? new
            {
                at,
                durationMs = row.LastRunDuration is { } d ? Math.Round(d.TotalMilliseconds, 1) : (double?)null,
                rows = row.LastRunRows,
                windows = row.LastRunWindows,
                findings = row.LastRunFindings,
                lagSeconds = row.LastRunLag is { } lag ? Math.Round(lag.TotalSeconds, 1) : (double?)null,
            } : null,
            warnings = row?.Warnings ?? Array.Empty<string>(),
            lease = leased ? new { holder = row!.LeaseOwner, until = row.LeaseUntil } : null,
        }).ConfigureAwait(false);
    }

    private static object? Window(SweepWindow? window) =>
        window is { } w ? new { id = w.Id, start = w.Start, end = w.End } : null;

    private static string Outcome(SweepRunOutcome outcome) => outcome switch
    {
        SweepRunOutcome.Swept => "swept",
        SweepRunOutcome.LeaseLost => "lease_lost",
        _ => "lease_held",
    };
}
