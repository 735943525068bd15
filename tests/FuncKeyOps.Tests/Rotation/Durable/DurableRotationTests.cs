using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// Whole rotations driven by the real Durable engine (in-process, with replay): the orchestration and activity the
/// Functions app registers, over the real <see cref="RotationStepRunner"/> against Azurite, the test vault and the
/// fake providers, with <see cref="RotationInvariants"/> checked after every step the activity ran.
/// </summary>
public class DurableRotationTests(DurableEngine engine) : IClassFixture<DurableEngine>
{
    /// <summary>
    /// Every hold (the admin call's <c>holds</c>): real durable timers, kept short. The revoke grace is the host's
    /// staleness bound, which <see cref="ShortGrace"/> keeps to seconds.
    /// </summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(300);

    /// <summary>A hold no test waits out: only an abort ends it in time.</summary>
    private static readonly TimeSpan LongHold = TimeSpan.FromMinutes(10);

    [Theory]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.BlueGreen)]
    [InlineData(RotationStrategy.Immediate)]
    [InlineData(RotationStrategy.Emergency)]
    public async Task The_orchestration_runs_each_step_of_the_plan_once_and_the_key_ends_on_its_new_version(RotationStrategy strategy)
    {
        await using var d = await DurableRotationHost.StartAsync(engine);
        var name = await d.Host.RegisterKeyAsync();
        var old = Assert.Single((await d.WeightsAsync(name)).Keys);

        var rotation = await d.StartRotationAsync(name, strategy, Hold);
        Assert.Equal(RotationStatus.Succeeded, await d.CompletionAsync(rotation));

        var record = await d.RecordAsync(rotation);
        if (strategy != RotationStrategy.Emergency) // the 300 ms holds never shorten the grace; an emergency has no revoke to wait for
            Assert.Equal(ShortGrace.Bound, record.Plan.Steps[^2].Grace);
        // Determinism: the engine replays the body from the top on every wake (each activity result, each hold's
        // timer) and compares the actions each replay schedules with the recorded history: a body that schedules
        // anything else on replay fails the instance (NonDeterministicOrchestrationException; tried by scheduling a
        // timer only when IsReplaying), which CompletionAsync would report. Here the instance Completed with more
        // executions than activity calls, and the activity ran exactly the plan's steps in order, once each: no
        // replay re-ran a step, and no hold ended early (that shows as the same index twice, the runner's "not yet").
        Assert.Equal(Enumerable.Range(0, record.Plan.RollbackIndex), d.Runner.Calls);
        Assert.True(d.Executions(rotation) > d.Runner.Calls.Count, $"the body ran {d.Executions(rotation)} times for {d.Runner.Calls.Count} steps");
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, await d.WeightsAsync(name));
        var versions = await d.Host.VersionsAsync(name);
        Assert.Equal((SecretVersionState.Active, true), (versions[record.NewVersion!].State, versions[record.NewVersion!].Enabled));
        Assert.Equal((SecretVersionState.Revoked, false), (versions[old].State, versions[old].Enabled));
        Assert.Equal((1, 1), (d.Host.Connector.Creates[name], d.Host.Connector.Revokes[name]));
        var kinds = d.Host.Alerts.For(name).Select(a => a.Kind).ToList();
        Assert.Equal("rotation.started", kinds[0]);
        Assert.Equal("rotation.succeeded", kinds[^1]);
        Assert.Equal(strategy == RotationStrategy.Canary ? 6 : 1, kinds.Count(k => k == "rotation.shifted"));
        Assert.Null(await d.Host.Store.GetUnfinishedAsync(name));
    }

    [Fact]
    public async Task An_abort_through_the_service_ends_a_long_hold_at_once_and_the_next_step_rolls_back()
    {
        await using var d = await DurableRotationHost.StartAsync(engine);
        var name = await d.Host.RegisterKeyAsync();
        var old = Assert.Single((await d.WeightsAsync(name)).Keys);
        var rotation = await d.StartRotationAsync(name, RotationStrategy.Canary, LongHold);
        const int FirstShift = 2;
        await d.Runner.Completed(FirstShift).WaitAsync(TimeSpan.FromSeconds(30));

        // The row's flag (the next step rolls back) and the driver's event (the hold ends now) both come from here.
        Assert.Equal(AbortOutcome.Requested, (await d.Service.AbortAsync(rotation, CancellationToken.None)).Outcome);

        Assert.Equal(RotationStatus.Aborted, await d.CompletionAsync(rotation));
        Assert.Equal([0, 1, FirstShift, FirstShift + 1], d.Runner.Calls);
        var record = await d.RecordAsync(rotation);
        Assert.Equal("rollback", record.History[^1].Step);
        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, await d.WeightsAsync(name));
        var versions = await d.Host.VersionsAsync(name);
        Assert.Equal((SecretVersionState.Active, true), (versions[old].State, versions[old].Enabled));
        Assert.Equal((SecretVersionState.Revoked, false), (versions[record.NewVersion!].State, versions[record.NewVersion!].Enabled));
        Assert.Single(d.Host.Alerts.For(name), a => a.Kind == "rotation.aborted");
    }

    [Fact]
    public async Task Steps_that_fail_after_their_first_write_are_retried_by_the_orchestration_and_change_nothing_twice()
    {
        await using var d = await DurableRotationHost.StartAsync(engine);
        var name = await d.Host.RegisterKeyAsync();
        var rotation = await d.StartRotationAsync(name, RotationStrategy.Immediate, Hold);
        // The answer lost right after the key was made and stored (create), and right after the provider revoked the old key (revoke).
        var crashes = new HashSet<string> { "create.store", "revoke.provider" };
        d.Host.Runner.AfterWrite = (id, write) =>
        {
            if (id == rotation && crashes.Remove(write))
                throw new SimulatedCrash(write);
        };

        Assert.Equal(RotationStatus.Succeeded, await d.CompletionAsync(rotation));

        Assert.Empty(crashes);
        Assert.Equal([0, 0, 1, 2, 3, 3], d.Runner.Calls);
        Assert.Equal((1, 1), (d.Host.Connector.Creates[name], d.Host.Connector.Revokes[name]));
        var record = await d.RecordAsync(rotation);
        Assert.Single((await d.Host.VersionsAsync(name)).Values, v => v.Tags.GetValueOrDefault(RotationStepRunner.RotationTag) == rotation.Id);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, await d.WeightsAsync(name));
        Assert.Equal(record.Plan.RollbackIndex, record.History.Count);
    }

    /// <summary>
    /// The provider starts refusing the new key once it carries 10 %: while the orchestration holds, relay traffic
    /// through the Server host fails on it (audited, retried on the old version); the analysis after the hold reads
    /// those rows and the orchestration runs the rollback step.
    /// </summary>
    [Fact]
    public async Task Errors_on_the_new_version_during_the_10_percent_hold_roll_back_through_the_orchestration()
    {
        await using var d = await DurableRotationHost.StartAsync(engine, new Dictionary<string, string?> { ["Rotation:AnalysisMinRequests"] = "5" });
        var name = await d.Host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var old = Assert.Single((await d.WeightsAsync(name)).Keys);
        var (_, relayKey) = await d.Host.Relay.CreateRelayKeyAsync();
        const int TenPercent = 6, ItsAnalysis = 7;
        var trafficSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        d.Runner.HoldBack(ItsAnalysis, trafficSent.Task);
        var rotation = await d.StartRotationAsync(name, RotationStrategy.Canary, Hold);

        await d.Runner.Completed(TenPercent).WaitAsync(TimeSpan.FromSeconds(30));
        var record = await d.RecordAsync(rotation);
        Assert.Equal(10, (await d.WeightsAsync(name))[record.NewVersion!]);
        var sentToNew = await d.Host.RefuseNewKeyUnderTrafficAsync(rotation, relayKey, calls: 6);
        trafficSent.SetResult();

        Assert.Equal(RotationStatus.RolledBack, await d.CompletionAsync(rotation));
        Assert.True(sentToNew >= 5, $"only {sentToNew} calls went to the new version");
        record = await d.RecordAsync(rotation);
        Assert.Equal([.. Enumerable.Range(0, ItsAnalysis + 1), record.Plan.RollbackIndex], d.Runner.Calls);
        Assert.Equal(new Dictionary<string, int> { [old] = 100 }, await d.WeightsAsync(name));
        var versions = await d.Host.VersionsAsync(name);
        Assert.Equal((SecretVersionState.Active, true), (versions[old].State, versions[old].Enabled));
        Assert.Equal((SecretVersionState.Revoked, false), (versions[record.NewVersion!].State, versions[record.NewVersion!].Enabled));
        Assert.Equal(1, d.Host.Connector.Revokes[name]); // the new key only
        var alert = Assert.Single(d.Host.Alerts.For(name), a => a.Kind == "rotation.rolled_back");
        Assert.Equal($"{rotation.Id}/{record.Plan.RollbackIndex}/rotation.rolled_back", alert.DedupeKey);
    }
}
