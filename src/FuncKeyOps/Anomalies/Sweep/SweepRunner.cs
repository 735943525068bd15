using System.Globalization;
using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies.Sweep;

/// <summary>
/// One run of the anomaly sweep, the same from the Functions timer, the Server host's schedule and <c>POST sweeps/run</c>:
/// take the lease on the checkpoint, sweep each closed window after it oldest first (one pass over its audit rows, every
/// detector over that pass, every finding to the <see cref="IFindingResponder"/>), move the checkpoint after each
/// window, run the per-run checks, retry pending actions, and let go. Several instances never sweep the same window
/// twice: only the lease holder sweeps, and every write it makes is conditional on the row's ETag.
/// </summary>
public sealed partial class SweepRunner(
    SweepCheckpointStore checkpoints,
    AuditPass pass,
    IEnumerable<IWindowDetector> detectors,
    IEnumerable<ISweepCheck> checks,
    IEnumerable<IClosedWindowSink> sinks,
    IFindingResponder responder,
    IBaselineLookup baselines,
    IKnownSourceStore knownSources,
    SweepTelemetry telemetry,
    IOptions<AnomalyOptions> options,
    TimeProvider time,
    ILogger<SweepRunner> logger)
{
    // How often, in rows, a long pass looks at its lease: a window of a busy relay can take longer than a lease.
    private const int LeaseCheckRows = 10_000;
    // Letting go after a cancelled or failed run still gets this long; else the lease simply runs out.
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(10);

    private readonly IReadOnlyList<IWindowDetector> _detectors = detectors.ToList();
    private readonly IReadOnlyList<ISweepCheck> _checks = checks.ToList();
    private readonly IReadOnlyList<IClosedWindowSink> _sinks = sinks.ToList();
    private readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}";

    // The baselines of the hour of the last closed window swept, kept across runs: a run every 5 minutes would otherwise
    // read the baselines table each time where once an hour is enough. Sound because the window that ends an hour
    // updates the next hour's baselines (a sink) before any closed window of that hour gets here, on any instance.
    private BaselineHour? _closedHourBaselines;

    /// <param name="includeOpenWindow">
    /// Also sweep the windows not yet closed, up to the one holding now (<c>POST sweeps/run</c>). The checkpoint never
    /// moves past a window that is not closed, so it is swept again once closed and its findings keep their ids.
    /// </param>
    public async Task<SweepRunResult> RunAsync(bool includeOpenWindow, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var started = time.GetTimestamp();
        var now = time.GetUtcNow();
        using var span = SweepTelemetry.StartRun(includeOpenWindow);
        // Per run, not per process: a timer run and an admin run in one process must not share a lease.
        var owner = $"{_instance}/{Guid.NewGuid():N}";
        // A first run starts at the window holding now minus one settle, not at the beginning of the audit.
        var held = await checkpoints.TryAcquireAsync(owner, now, now + settings.LeaseDuration,
            SweepWindow.Containing(now - settings.SettleDelay).Previous, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            var holder = await checkpoints.ReadAsync(cancellationToken).ConfigureAwait(false);
            LogHeld(logger, holder?.LeaseOwner, holder?.LeaseUntil);
            var refused = new SweepRunResult
            {
                Outcome = SweepRunOutcome.LeaseHeld,
                Checkpoint = holder?.LastWindow,
                LeaseHolder = holder?.LeaseOwner,
                LeaseUntil = holder?.LeaseUntil,
                Duration = time.GetElapsedTime(started),
            };
            SweepTelemetry.FinishRun(span, refused);
            return refused;
        }

        var run = new Run(checkpoints, time, held, settings, owner);
        var outcome = SweepRunOutcome.Swept;
        try
        {
            await SweepDueAsync(run, includeOpenWindow, cancellationToken).ConfigureAwait(false);
        }
        catch (SweepLeaseLostException)
        {
            outcome = SweepRunOutcome.LeaseLost;
            LogLost(logger, owner);
        }
        catch (Exception e)
        {
            SweepTelemetry.Failed(span, e);
            await ReleaseAsync(run, started, failed: true).ConfigureAwait(false);
            throw;
        }

        if (outcome == SweepRunOutcome.Swept && !await ReleaseAsync(run, started, failed: false).ConfigureAwait(false))
            outcome = SweepRunOutcome.LeaseLost;
        var result = new SweepRunResult
        {
            Outcome = outcome,
            Windows = run.Windows,
            Rows = run.Rows,
            Findings = run.Findings,
            Duration = time.GetElapsedTime(started),
            Warnings = run.Warnings,
            Checkpoint = run.Held.LastWindow,
        };
        SweepTelemetry.FinishRun(span, result);
        LogRan(logger, outcome, run.Windows.Count, run.Rows, run.Findings, result.Duration.TotalMilliseconds, run.Held.LastWindow?.Id);
        return result;
    }

    private async Task SweepDueAsync(Run run, bool includeOpenWindow, CancellationToken cancellationToken)
    {
        var settings = run.Settings;
        var lastClosed = LastClosed(time.GetUtcNow(), settings);
        var next = run.Held.LastWindow is { } last ? last.Next : lastClosed;
        var swept = 0;
        for (; next.Start <= lastClosed.Start && swept < settings.MaxWindowsPerRun; next = next.Next, swept++)
        {
            var findings = await SweepWindowAsync(run, next, closed: true, cancellationToken).ConfigureAwait(false);
            foreach (var sink in _sinks)
                await sink.WriteAsync(findings.Tally, findings.Found, cancellationToken).ConfigureAwait(false);
            await run.WriteAsync(run.Held with { LastWindow = next, LeaseUntil = time.GetUtcNow() + settings.LeaseDuration }, cancellationToken).ConfigureAwait(false);
            foreach (var finding in findings.Found)
                telemetry.RecordFinding(finding);
        }
        if (next.Start <= lastClosed.Start)
        {
            var behind = (lastClosed.Start - next.Start).Ticks / SweepWindow.Length.Ticks + 1;
            run.Warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"catching up: {behind} closed windows left after this run's {settings.MaxWindowsPerRun} (Anomalies:MaxWindowsPerRun)"));
        }
        else if (includeOpenWindow)
        {
            // Not closed yet: swept as they stand, the checkpoint left where it is.
            for (var current = SweepWindow.Containing(time.GetUtcNow()); next.Start <= current.Start; next = next.Next)
                await SweepWindowAsync(run, next, closed: false, cancellationToken).ConfigureAwait(false);
        }

        if (run.Held.LastWindow is { } checkpoint)
            await RunChecksAsync(run, checkpoint, cancellationToken).ConfigureAwait(false);
        try
        {
            await run.KeepLeaseAsync(cancellationToken).ConfigureAwait(false);
            await responder.RetryPendingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not SweepLeaseLostException && !cancellationToken.IsCancellationRequested)
        {
            LogRetryFailed(logger, e);
            run.Warnings.Add($"retrying pending actions failed ({e.GetType().Name}); tried again next run");
        }
    }

    /// <summary>The newest window closed at <paramref name="now"/>: ended at least a settle ago.</summary>
    internal static SweepWindow LastClosed(DateTimeOffset now, AnomalyOptions settings) =>
        SweepWindow.Containing(now - settings.SettleDelay).Previous;

    private async Task<(WindowTally Tally, IReadOnlyList<Finding> Found)> SweepWindowAsync(Run run, SweepWindow window, bool closed, CancellationToken cancellationToken)
    {
        using var span = SweepTelemetry.StartWindow(window, closed);
        var tally = new WindowTally(window);
        await foreach (var row in pass.ReadAsync(window, cancellationToken).ConfigureAwait(false))
        {
            tally.Add(row);
            if (tally.Rows % LeaseCheckRows == 0)
                await run.KeepLeaseAsync(cancellationToken).ConfigureAwait(false);
        }
        telemetry.RecordRows(tally.Rows);

        var context = new DetectionContext
        {
            Tally = tally,
            WindowClosed = closed,
            Now = time.GetUtcNow(),
            Options = run.Settings,
            Baselines = await BaselinesAsync(window, closed, cancellationToken).ConfigureAwait(false),
            KnownSources = knownSources,
            RunId = run.Owner,
        };
        var found = new List<Finding>();
        foreach (var detector in _detectors)
        {
            using var detecting = SweepTelemetry.StartDetector(detector.Name);
            var findings = await detector.DetectAsync(context, cancellationToken).ConfigureAwait(false);
            detecting?.SetTag(SweepTelemetry.Findings, findings.Count);
            found.AddRange(findings);
        }

        // Nothing is handed on by a run that may have lost the sweep while it read.
        await run.KeepLeaseAsync(cancellationToken).ConfigureAwait(false);
        foreach (var finding in found)
            await responder.RespondAsync(finding, cancellationToken).ConfigureAwait(false);

        SweepTelemetry.FinishWindow(span, tally.Rows, found.Count);
        run.Windows.Add(new SweptWindow(window, closed, tally.Rows, found.Count));
        run.Rows += tally.Rows;
        run.Findings += found.Count;
        return (tally, found);
    }

    /// <summary>
    /// The baselines of the window's hour. Loaded for an open window they are not kept: its hour may not be updated yet
    /// (the window ending the hour before is not closed), and the closed windows of that hour must read them afresh.
    /// </summary>
    private async Task<BaselineHour> BaselinesAsync(SweepWindow window, bool closed, CancellationToken cancellationToken)
    {
        var hour = Rollups.RollupPeriod.Containing(Rollups.RollupLevel.Hour, window.Start).Start;
        if (Volatile.Read(ref _closedHourBaselines) is { } kept && kept.Hour == hour)
            return kept;
        var loaded = await baselines.LoadAsync(window.Start, cancellationToken).ConfigureAwait(false);
        if (closed)
            Volatile.Write(ref _closedHourBaselines, loaded);
        return loaded;
    }

    private async Task RunChecksAsync(Run run, SweepWindow lastClosed, CancellationToken cancellationToken)
    {
        var context = new SweepContext { Now = time.GetUtcNow(), Options = run.Settings, LastClosedWindow = lastClosed };
        foreach (var check in _checks)
        {
            using var span = SweepTelemetry.StartCheck(check.Name);
            SweepCheckResult result;
            try
            {
                result = await check.RunAsync(context, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // A check fails softly: the other checks and the next run go on.
                SweepTelemetry.Failed(span, e);
                LogCheckFailed(logger, check.Name, e);
                run.Warnings.Add($"{check.Name}: failed ({e.GetType().Name}); tried again next run");
                continue;
            }
            run.Warnings.AddRange(result.Warnings.Select(w => $"{check.Name}: {w}"));
            await run.KeepLeaseAsync(cancellationToken).ConfigureAwait(false);
            foreach (var finding in result.Findings)
            {
                await responder.RespondAsync(finding, cancellationToken).ConfigureAwait(false);
                telemetry.RecordFinding(finding);
            }
            run.Findings += result.Findings.Count;
            if (result.Commit is { } commit)
                await commit(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <returns>False when the lease was found lost: the run's last write did not happen.</returns>
    private async Task<bool> ReleaseAsync(Run run, long started, bool failed)
    {
        var now = time.GetUtcNow();
        var lag = run.Held.LastWindow is { } last ? now - last.End : (TimeSpan?)null;
        if (lag is { } value)
            telemetry.RecordLag(value);
        using var timeout = new CancellationTokenSource(ReleaseTimeout, time);
        try
        {
            await run.WriteAsync(run.Held with
            {
                LeaseOwner = null,
                LeaseUntil = null,
                LastRunAt = now,
                LastRunDuration = time.GetElapsedTime(started),
                LastRunRows = run.Rows,
                LastRunWindows = run.Windows.Count,
                LastRunFindings = run.Findings,
                LastRunLag = lag,
                Warnings = failed ? [.. run.Warnings, "the run failed; its windows are swept again next run"] : run.Warnings,
            }, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e)
        {
            // Best effort: what the run did is in the checkpoint already, and an unreleased lease runs out by itself.
            LogReleaseFailed(logger, e.GetType().Name);
            return e is not SweepLeaseLostException;
        }
    }

    /// <summary>What a run holds: the checkpoint row as last written (its ETag) and what it has done.</summary>
    private sealed class Run(SweepCheckpointStore checkpoints, TimeProvider time, SweepCheckpoint held, AnomalyOptions settings, string owner)
    {
        /// <summary>Unique per run: the lease owner.</summary>
        public string Owner { get; } = owner;
        public SweepCheckpoint Held { get; private set; } = held;
        public AnomalyOptions Settings { get; } = settings;
        public List<SweptWindow> Windows { get; } = [];
        public List<string> Warnings { get; } = [];
        public long Rows { get; set; }
        public int Findings { get; set; }

        /// <summary>Writes the row over the one held; the lease is lost when the row changed since (another instance took it).</summary>
        public async Task WriteAsync(SweepCheckpoint next, CancellationToken cancellationToken) =>
            Held = await checkpoints.TryReplaceAsync(Held, next, cancellationToken).ConfigureAwait(false)
                ?? throw new SweepLeaseLostException();

        /// <summary>
        /// Renews the lease once half of it has gone. Past its end the renewal is still tried, and succeeds only if no one
        /// took the row meanwhile: an instance paused past its lease either still holds the row or writes nothing more.
        /// </summary>
        public Task KeepLeaseAsync(CancellationToken cancellationToken)
        {
            var now = time.GetUtcNow();
            if (Held.LeaseUntil is { } until && until - now > Settings.LeaseDuration / 2)
                return Task.CompletedTask;
            return WriteAsync(Held with { LeaseUntil = now + Settings.LeaseDuration }, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Anomaly sweep {Outcome}: {Windows} windows, {Rows} rows, {Findings} findings in {DurationMs:0} ms; checkpoint {Checkpoint}")]
    private static partial void LogRan(ILogger logger, SweepRunOutcome outcome, int windows, long rows, int findings, double durationMs, string? checkpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Anomaly sweep skipped: {Holder} holds it until {Until:O}")]
    private static partial void LogHeld(ILogger logger, string? holder, DateTimeOffset? until);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly sweep {Owner} lost its lease (paused past it; another instance took the sweep) and stopped without another write")]
    private static partial void LogLost(ILogger logger, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly sweep check {Check} failed; the sweep goes on and the check runs again next time")]
    private static partial void LogCheckFailed(ILogger logger, string check, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retrying the pending actions of findings failed; tried again next run")]
    private static partial void LogRetryFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly sweep could not release its lease ({Failure}); it runs out by itself")]
    private static partial void LogReleaseFailed(ILogger logger, string failure);
}

/// <summary>The checkpoint row changed under a run: another instance holds the sweep now.</summary>
internal sealed class SweepLeaseLostException() : Exception("Another instance took the sweep's lease.");
