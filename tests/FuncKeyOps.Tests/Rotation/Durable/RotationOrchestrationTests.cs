using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// The Durable driver end to end on the real engine (in-process, with replay): the orchestration the Functions app
/// registers, scheduled, signalled and queried through <see cref="DurableRotationDriver"/>, over a scripted runner.
/// </summary>
public class RotationOrchestrationTests(DurableEngine engine) : IClassFixture<DurableEngine>
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongHold = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Runs_the_steps_in_order_holding_between_them_and_stops_at_the_final_status()
    {
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, Hold),
            RotationStepResult.Next(2, TimeSpan.Zero),
            RotationStepResult.Finished(RotationStatus.Succeeded),
            RotationStepResult.Next(0, TimeSpan.Zero));

        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        var done = await engine.WaitForCompletionAsync(rotation);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails}");
        Assert.Equal(RotationStatus.Succeeded, done.ReadOutputAs<RotationStatus>());
        Assert.Equal([0, 1, 2], runner.Calls);
        var times = runner.CallTimes;
        Assert.True(times[1] - times[0] >= Hold - TimeSpan.FromMilliseconds(100), $"step 1 came {times[1] - times[0]} after step 0, before its hold of {Hold}");
        Assert.False(await engine.Driver.IsRunningAsync(rotation.KeyName, CancellationToken.None));
    }

    [Fact]
    public async Task An_abort_during_a_hold_runs_the_next_step_at_once_and_it_rolls_back()
    {
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, LongHold),
            RotationStepResult.Finished(RotationStatus.Succeeded));
        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        await runner.Called(0).WaitAsync(TimeSpan.FromSeconds(30));

        runner.Abort();
        await engine.Driver.SignalAbortAsync(rotation, CancellationToken.None);
        var done = await engine.WaitForCompletionAsync(rotation);

        Assert.Equal(RotationStatus.Aborted, done.ReadOutputAs<RotationStatus>());
        Assert.Equal([0, 1], runner.Calls);
    }

    [Fact]
    public async Task A_step_that_fails_after_its_write_is_retried_and_no_finished_step_runs_again()
    {
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, TimeSpan.Zero),
            RotationStepResult.Next(2, TimeSpan.Zero),
            RotationStepResult.Finished(RotationStatus.Succeeded));
        runner.FailAfterWrite(1);

        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        var done = await engine.WaitForCompletionAsync(rotation);

        Assert.Equal(RotationStatus.Succeeded, done.ReadOutputAs<RotationStatus>());
        Assert.Equal([0, 1, 1, 2], runner.Calls);
        Assert.Equal(new Dictionary<int, int> { [0] = 1, [1] = 1, [2] = 1 }, runner.Completions.OrderBy(c => c.Key).ToDictionary());
    }

    [Fact]
    public async Task A_step_still_failing_after_its_retries_is_tried_again_after_a_wait_instead_of_failing_the_rotation()
    {
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, TimeSpan.Zero),
            RotationStepResult.Finished(RotationStatus.Succeeded));
        // Both attempts the quick retry policy allows fail, then the one after RetryAfterFailure succeeds.
        runner.FailAfterWrite(1, times: DurableEngine.QuickRetries.StepRetry.MaxNumberOfAttempts);

        await engine.Client.ScheduleNewOrchestrationInstanceAsync(DurableEngine.QuickRetriesOrchestration,
            new RotationStepInput(rotation, 0), new Microsoft.DurableTask.StartOrchestrationOptions(rotation.InstanceId));
        var done = await engine.WaitForCompletionAsync(rotation);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails}");
        Assert.Equal(RotationStatus.Succeeded, done.ReadOutputAs<RotationStatus>());
        Assert.Equal([0, 1, 1, 1], runner.Calls);
        var times = runner.CallTimes;
        Assert.True(times[3] - times[2] >= DurableEngine.QuickRetries.RetryAfterFailure - TimeSpan.FromMilliseconds(100),
            $"the step was tried again {times[3] - times[2]} after its last retry, before {DurableEngine.QuickRetries.RetryAfterFailure}");
    }

    [Fact]
    public async Task A_finished_rotation_does_not_count_as_running_and_the_key_s_next_rotation_replaces_its_instance()
    {
        var (rotation, runner) = engine.NewRotation(RotationStepResult.Finished(RotationStatus.Succeeded));
        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        await engine.WaitForCompletionAsync(rotation);
        Assert.False(await engine.Driver.IsRunningAsync(rotation.KeyName, CancellationToken.None));

        var next = rotation with { Id = Guid.NewGuid().ToString("N") };
        await engine.Driver.ScheduleAsync(next, CancellationToken.None);
        var done = await engine.WaitForCompletionAsync(next);

        Assert.Equal(next, done.ReadInputAs<RotationStepInput>()!.Rotation);
        Assert.Equal([0, 0], runner.Calls);
    }

    [Fact]
    public async Task The_body_replays_but_the_step_calls_and_logs_are_not_repeated()
    {
        var short_ = TimeSpan.FromMilliseconds(200);
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, short_),
            RotationStepResult.Next(2, short_),
            RotationStepResult.Finished(RotationStatus.Succeeded));

        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        await engine.WaitForCompletionAsync(rotation);

        // Each of the 5 results (3 steps, 2 timers) wakes the orchestration, which runs the body from the top.
        Assert.True(engine.Executions(rotation) >= 6, $"the body ran {engine.Executions(rotation)} times");
        Assert.Equal([0, 1, 2], runner.Calls);
        // The replay-safe logger writes each step once, however often the body replayed it.
        Assert.Equal(3, engine.Logs.Lines.Count(l => l.Contains($"Rotation {rotation} step ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_second_start_while_running_leaves_the_running_instance_alone()
    {
        var (rotation, runner) = engine.NewRotation(
            RotationStepResult.Next(1, LongHold),
            RotationStepResult.Finished(RotationStatus.Succeeded));
        var driver = engine.Driver;
        await driver.ScheduleAsync(rotation, CancellationToken.None);
        await runner.Called(0).WaitAsync(TimeSpan.FromSeconds(30));
        var first = await engine.Client.GetInstanceAsync(rotation.InstanceId);

        Assert.True(await driver.IsRunningAsync(rotation.KeyName, CancellationToken.None));
        await driver.ScheduleAsync(rotation, CancellationToken.None);
        var other = rotation with { Id = Guid.NewGuid().ToString("N") };
        await Assert.ThrowsAsync<InvalidOperationException>(() => driver.ScheduleAsync(other, CancellationToken.None));

        var after = await engine.Client.GetInstanceAsync(rotation.InstanceId, getInputsAndOutputs: true);
        Assert.NotNull(after);
        Assert.Equal(OrchestrationRuntimeStatus.Running, after.RuntimeStatus);
        Assert.Equal(first!.CreatedAt, after.CreatedAt);
        Assert.Equal(rotation, after.ReadInputAs<RotationStepInput>()!.Rotation);
        // The first instance still holds and is the one that answers the abort.
        runner.Abort();
        await driver.SignalAbortAsync(rotation, CancellationToken.None);
        Assert.Equal(RotationStatus.Aborted, (await engine.WaitForCompletionAsync(rotation)).ReadOutputAs<RotationStatus>());
        Assert.Equal([0, 1], runner.Calls);
    }

    [Fact]
    public async Task A_long_plan_continues_as_new_without_losing_its_place()
    {
        var steps = RotationOrchestrationOptions.Default.StepsPerGeneration + 10;
        var script = Enumerable.Range(0, steps)
            .Select(i => i == steps - 1 ? RotationStepResult.Finished(RotationStatus.Succeeded) : RotationStepResult.Next(i + 1, TimeSpan.Zero))
            .ToArray();
        var (rotation, runner) = engine.NewRotation(script);

        await engine.Driver.ScheduleAsync(rotation, CancellationToken.None);
        var done = await engine.WaitForCompletionAsync(rotation, TimeSpan.FromSeconds(60));

        Assert.Equal(RotationStatus.Succeeded, done.ReadOutputAs<RotationStatus>());
        Assert.Equal(Enumerable.Range(0, steps), runner.Calls);
        // The second generation started from the step due next: its input says so.
        Assert.Equal(RotationOrchestrationOptions.Default.StepsPerGeneration, done.ReadInputAs<RotationStepInput>()!.Index);
    }
}
