using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Sweep;
using Microsoft.Extensions.DependencyInjection;
using static FuncKeyOps.Tests.Anomalies.SweepRows;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The sweep's runs over Azurite with a fake clock: where a first run starts, catching up, re-sweeping, open windows,
/// and the lease between instances (two at once; one paused past its lease).
/// </summary>
public class SweepRunnerTests
{
    private static readonly SweepWindow W0 = SweepHarness.FirstWindow;           // 10:00
    private static readonly SweepWindow W1 = W0.Next;                            // 10:05
    private static readonly SweepWindow W2 = W1.Next;                            // 10:10

    /// <summary>21 failed authentications from one source: one <c>auth_failures</c> finding for the window.</summary>
    private static IEnumerable<FuncKeyOps.Audit.AuditRecord> Guessing(SweepWindow window, int count = 21) =>
        Times(count, i => FailedAuth(In(window.Start, i), "203.0.113.66"));

    [Fact]
    public async Task A_first_run_starts_at_the_window_holding_now_minus_a_settle_and_reads_no_history()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await sweep.SeedAsync(Guessing(W0.Previous).Concat(Guessing(SweepWindow.Containing(W0.Start.AddDays(-1)))));

        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal(SweepRunOutcome.Swept, run.Outcome);
        Assert.Empty(run.Windows);
        Assert.Empty(sweep.Responder.Findings);
        // 10:02:30 less the minute's settle is in the 10:00 window: that one is swept first, once it closes.
        Assert.Equal(W0.Previous, run.Checkpoint);
        var row = await sweep.Checkpoints.ReadAsync(CancellationToken.None);
        Assert.Equal(((SweepWindow?)W0.Previous, (string?)null), (row!.LastWindow, row.LeaseOwner));
        Assert.Equal(1, sweep.Responder.Retries);
    }

    [Fact]
    public async Task After_downtime_the_closed_windows_are_swept_oldest_first_each_once()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await sweep.SeedAsync(Guessing(W2).Concat(Guessing(W0)).Concat(Guessing(W1)));

        sweep.MoveTo(W2.End + TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(59)); // 10:16:59: 10:15 not closed yet
        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        var again = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal([W0, W1, W2], run.Windows.Select(w => w.Window));
        Assert.All(run.Windows, w => Assert.Equal((true, 21L, 1), (w.Closed, w.Rows, w.Findings)));
        Assert.Equal((63L, 3), (run.Rows, run.Findings));
        Assert.Empty(again.Windows);
        Assert.Equal([W0.Start, W1.Start, W2.Start], sweep.Responder.Findings.Select(f => f.WindowStart));
        Assert.Equal(3, sweep.Responder.Findings.Select(f => f.Id).Distinct().Count());
        var row = await sweep.Checkpoints.ReadAsync(CancellationToken.None);
        Assert.Equal(((SweepWindow?)W2, 0, 0L), (row!.LastWindow, row.LastRunWindows, row.LastRunRows));
        Assert.Equal(3, sweep.Responder.Retries); // once per run
    }

    [Fact]
    public async Task A_run_sweeps_at_most_MaxWindowsPerRun_and_says_it_is_catching_up()
    {
        await using var sweep = await SweepHarness.CreateAsync(new Dictionary<string, string?> { ["Anomalies:MaxWindowsPerRun"] = "2" });
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await sweep.SeedAsync(Guessing(W0).Concat(Guessing(W1)).Concat(Guessing(W2)));
        sweep.MoveTo(W2.End + TimeSpan.FromMinutes(1));

        var first = await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);
        var status = await sweep.Checkpoints.ReadAsync(CancellationToken.None);
        var second = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        // Catching up, the open window waits: it is swept once the closed ones are done.
        Assert.Equal([W0, W1], first.Windows.Select(w => w.Window));
        Assert.Contains(first.Warnings, w => w.StartsWith("catching up: 1 closed windows left", StringComparison.Ordinal));
        Assert.Equal(first.Warnings, status!.Warnings);
        Assert.Equal([W2], second.Windows.Select(w => w.Window));
        Assert.Empty(second.Warnings);
    }

    [Fact]
    public async Task The_open_windows_finding_keeps_its_id_when_the_window_is_swept_again_closed()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await sweep.SeedAsync(Guessing(W0));

        var open = await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);
        var openAgain = await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);
        var whileOpen = sweep.Responder.Findings;
        // More failures land later in the window, then it closes.
        await sweep.SeedAsync(Times(5, i => FailedAuth(W0.Start.AddMinutes(4).AddSeconds(i), "203.0.113.66")));
        sweep.MoveTo(W0.End + TimeSpan.FromMinutes(1));
        var closed = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal([(W0, false)], open.Windows.Select(w => (w.Window, w.Closed)));
        Assert.Equal(W0.Previous, open.Checkpoint); // an open window never moves the checkpoint
        // The same window swept twice: the same findings, equal in every field.
        Assert.Equal(2, whileOpen.Count);
        Assert.Equal(whileOpen[0], whileOpen[1]);
        Assert.Equal([(W0, true)], closed.Windows.Select(w => (w.Window, w.Closed)));
        Assert.Equal(W0, closed.Checkpoint);
        var final = sweep.Responder.Findings[^1];
        Assert.Equal((whileOpen[0].Id, 21.0, 26.0), (final.Id, whileOpen[0].Observed, final.Observed));
        Assert.Equal(openAgain.Findings, open.Findings);
    }

    [Fact]
    public async Task Two_runners_on_one_table_at_once_sweep_each_window_once()
    {
        await using var a = await SweepHarness.CreateAsync();
        await using var b = await SweepHarness.CreateAsync(sameTablesAs: a);
        await a.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await a.SeedAsync(Guessing(W0).Concat(Guessing(W1)).Concat(Guessing(W2)));
        a.MoveTo(W2.End + TimeSpan.FromMinutes(1));

        using var go = new ManualResetEventSlim();
        var first = Task.Run(() => { go.Wait(); return a.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None); });
        var second = Task.Run(() => { go.Wait(); return b.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None); });
        go.Set();
        var runs = await Task.WhenAll(first, second);

        var swept = runs.SelectMany(r => r.Windows).Select(w => w.Window).OrderBy(w => w.Start).ToList();
        Assert.Equal([W0, W1, W2], swept);
        var findings = a.Responder.Findings.Concat(b.Responder.Findings).ToList();
        Assert.Equal(3, findings.Count);
        Assert.Equal(3, findings.Select(f => f.Id).Distinct().Count());
        Assert.All(runs, r => Assert.NotEqual(SweepRunOutcome.LeaseLost, r.Outcome));
        Assert.Equal(W2, (await a.Checkpoints.ReadAsync(CancellationToken.None))!.LastWindow);
    }

    [Fact]
    public async Task A_runner_paused_past_its_lease_writes_nothing_more_once_another_took_over()
    {
        await using var a = await SweepHarness.CreateAsync();
        await using var b = await SweepHarness.CreateAsync(sameTablesAs: a);
        await a.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await a.SeedAsync(Guessing(W0).Concat(Guessing(W1)).Concat(Guessing(W2)));
        a.MoveTo(W2.End + TimeSpan.FromMinutes(1));
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Responder.OnRespond = _ =>
        {
            paused.TrySetResult();
            return resume.Task;
        };

        var pausedRun = Task.Run(() => a.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None));
        await paused.Task.WaitAsync(TimeSpan.FromSeconds(60));
        // A is stopped inside its first window's findings; its lease runs out and B takes the sweep.
        a.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        var takeover = await b.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        var afterTakeover = await a.Checkpoints.ReadAsync(CancellationToken.None);
        resume.SetResult();
        var late = await pausedRun.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(SweepRunOutcome.Swept, takeover.Outcome);
        Assert.Equal([W0, W1, W2], takeover.Windows.Select(w => w.Window));
        Assert.Equal(SweepRunOutcome.LeaseLost, late.Outcome);
        Assert.Equal([W0.Start], a.Responder.Findings.Select(f => f.WindowStart)); // only the finding it was paused in
        var row = await a.Checkpoints.ReadAsync(CancellationToken.None);
        Assert.Equal(afterTakeover!.ETag, row!.ETag); // not one write since
        Assert.Equal(((SweepWindow?)W2, (string?)null), (row.LastWindow, row.LeaseOwner));
    }

    [Fact]
    public async Task A_run_while_another_holds_the_lease_does_nothing_and_one_after_it_ran_out_sweeps()
    {
        await using var sweep = await SweepHarness.CreateAsync();
        await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        await sweep.SeedAsync(Guessing(W0));
        sweep.MoveTo(W0.End + TimeSpan.FromMinutes(1));
        var now = sweep.Time.GetUtcNow();
        Assert.NotNull(await sweep.Checkpoints.TryAcquireAsync("other-instance", now, now + TimeSpan.FromMinutes(2), W0.Previous, CancellationToken.None));

        var refused = await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);
        sweep.Time.Advance(TimeSpan.FromMinutes(2));
        var swept = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);

        Assert.Equal((SweepRunOutcome.LeaseHeld, "other-instance", now + TimeSpan.FromMinutes(2)), (refused.Outcome, refused.LeaseHolder, refused.LeaseUntil));
        Assert.Empty(refused.Windows);
        Assert.Equal(SweepRunOutcome.Swept, swept.Outcome);
        Assert.Equal([W0], swept.Windows.Select(w => w.Window));
        Assert.Single(sweep.Responder.Findings);
    }

    [Fact]
    public async Task Per_run_checks_hand_on_their_findings_and_their_warnings_and_failures_go_on_the_status()
    {
        var found = new Finding
        {
            Id = FindingId.For(Detectors.ShadowUsage, "provider-key:openai-main/v1", W0),
            Detector = Detectors.ShadowUsage,
            Subject = "provider-key:openai-main/v1",
            WindowStart = W0.Start,
            WindowEnd = W0.End,
            Observed = 10,
            Threshold = 5,
            Severity = FindingSeverity.High,
            Summary = "test",
            FoundAt = SweepHarness.Start,
        };
        await using var sweep = await SweepHarness.CreateAsync(configure: services =>
        {
            services.AddSingleton<ISweepCheck>(new Check("shadow", _ => new SweepCheckResult { Findings = [found], Warnings = ["anthropic usage answered 500"] }));
            services.AddSingleton<ISweepCheck>(new Check("broken", _ => throw new HttpRequestException("down")));
        });

        var run = await sweep.Runner.RunAsync(includeOpenWindow: false, CancellationToken.None);
        var row = await sweep.Checkpoints.ReadAsync(CancellationToken.None);

        Assert.Equal(SweepRunOutcome.Swept, run.Outcome);
        Assert.Equal([found], sweep.Responder.Findings);
        Assert.Equal(["shadow: anthropic usage answered 500", "broken: failed (HttpRequestException); tried again next run"], run.Warnings);
        Assert.Equal(run.Warnings, row!.Warnings);
        Assert.Equal(1, row.LastRunFindings);
    }

    [Fact]
    public async Task Closed_windows_reach_the_sinks_with_their_findings_before_the_checkpoint_moves_and_open_ones_never()
    {
        var sink = new Sink();
        await using var sweep = await SweepHarness.CreateAsync(configure: services => services.AddSingleton<IClosedWindowSink>(sink));
        sink.Checkpoints = sweep.Checkpoints;
        await sweep.SeedAsync(Guessing(W0));

        await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);
        sweep.MoveTo(W1.End + TimeSpan.FromMinutes(1));
        await sweep.Runner.RunAsync(includeOpenWindow: true, CancellationToken.None);

        // W0 and W1 closed, each once, with the checkpoint still before each; W2 (open at the second run) not at all.
        Assert.Equal([(W0, 21L, 1, (SweepWindow?)W0.Previous), (W1, 0L, 0, W0)], sink.Written);
    }

    private sealed class Sink : IClosedWindowSink
    {
        public SweepCheckpointStore? Checkpoints { get; set; }
        public List<(SweepWindow Window, long Rows, int Findings, SweepWindow? Checkpoint)> Written { get; } = [];

        public async Task WriteAsync(WindowTally tally, IReadOnlyList<Finding> findings, CancellationToken cancellationToken)
        {
            var checkpoint = await Checkpoints!.ReadAsync(cancellationToken);
            Written.Add((tally.Window, tally.Rows, findings.Count, checkpoint!.LastWindow));
        }
    }

    private sealed class Check(string name, Func<SweepContext, SweepCheckResult> run) : ISweepCheck
    {
        public string Name => name;

        public Task<SweepCheckResult> RunAsync(SweepContext context, CancellationToken cancellationToken) => Task.FromResult(run(context));
    }
}
