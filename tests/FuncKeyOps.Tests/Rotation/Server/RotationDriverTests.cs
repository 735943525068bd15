using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Storage;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// The Server host's driver over Azurite, time from a <see cref="FakeTimeProvider"/>: it only polls when the test moves
/// the clock, so whatever runs without a clock move was woken by a signal.
/// </summary>
public class RotationDriverTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Signal = TimeSpan.FromSeconds(30);

    private static RotationDriverService Driver(TableStore tables, IRotationStepRunner runner, TimeProvider time) =>
        new(new RotationLeases(tables), runner, Options.Create(new RotationDriverOptions { PollInterval = Poll, LeaseLength = Lease }), time,
            NullLogger<RotationDriverService>.Instance);

    /// <summary>Starts the driver and waits for its first sweep, so whatever the test writes next is found only by a later one.</summary>
    private static async Task StartAsync(RotationDriverService driver)
    {
        var first = driver.NextSweepAsync();
        await driver.StartAsync(CancellationToken.None);
        await first.WaitAsync(Signal);
    }

    /// <summary>A started driver inside step 0 (of 3, no waits) of a due rotation, held there until the test releases it.</summary>
    private static async Task<(TableStore Tables, ScriptedStepRunner Runner, RotationId Rotation, RotationDriverService Driver)> InsideHeldFirstStepAsync()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 3, wait: TimeSpan.Zero);
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        runner.Hold(0);
        var driver = Driver(tables, runner, time);
        await driver.StartAsync(CancellationToken.None);
        await runner.Started(0).WaitAsync(Signal);
        return (tables, runner, rotation, driver);
    }

    [Fact]
    public async Task A_due_row_is_leased_while_its_step_runs_and_released_when_the_next_step_waits()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 4, wait: TimeSpan.FromMinutes(10));
        var due = await RotationRows.InsertAsync(tables, stepIndex: 2, nextDue: Start - TimeSpan.FromSeconds(1));
        var holding = await RotationRows.InsertAsync(tables, stepIndex: 1, nextDue: Start + TimeSpan.FromHours(1));
        var finished = await RotationRows.InsertAsync(tables, stepIndex: 4, nextDue: Start - TimeSpan.FromHours(1), RotationStatus.Succeeded);
        await RotationRows.InsertMarkerAsync(tables, due.KeyName);
        runner.Hold(2);
        using var driver = Driver(tables, runner, time);
        await driver.StartAsync(CancellationToken.None);

        await runner.Started(2).WaitAsync(Signal);
        var during = await RotationRows.ReadAsync(tables, due);
        Assert.Equal(driver.Owner, during.GetString(RotationColumns.LeaseOwner));
        Assert.Equal(Start + Lease, during.GetDateTimeOffset(RotationColumns.LeaseUntil));

        var released = driver.NextSweepAsync();
        runner.Release(2);
        time.Advance(Poll);
        await released.WaitAsync(Signal);

        Assert.Equal([(due, 2)], runner.Runs);
        var after = await RotationRows.ReadAsync(tables, due);
        Assert.Equal(3, after.GetInt32(RotationColumns.StepIndex));
        Assert.Equal("", after.GetString(RotationColumns.LeaseOwner));
        Assert.Null((await RotationRows.ReadAsync(tables, holding)).GetString(RotationColumns.LeaseOwner));
        Assert.Null((await RotationRows.ReadAsync(tables, finished)).GetString(RotationColumns.LeaseOwner));
    }

    [Fact]
    public async Task Steps_due_at_once_run_back_to_back_under_one_lease_to_the_end()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 3, wait: TimeSpan.Zero);
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        using var driver = Driver(tables, runner, time);
        await driver.StartAsync(CancellationToken.None);

        await runner.Completed(2).WaitAsync(Signal);
        await driver.StopAsync(CancellationToken.None);

        Assert.Equal([(rotation, 0), (rotation, 1), (rotation, 2)], runner.Runs);
        var row = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal(nameof(RotationStatus.Succeeded), row.GetString(RotationColumns.Status));
        Assert.Equal("", row.GetString(RotationColumns.LeaseOwner));
    }

    [Fact]
    public async Task Of_drivers_racing_for_the_same_free_row_exactly_one_gets_the_lease()
    {
        var tables = await TestTables.CreateAsync();
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        var leases = new RotationLeases(tables);
        var row = Assert.Single(await leases.FindDueAsync(Start, [], CancellationToken.None));

        var attempts = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => leases.TryAcquireAsync(row, $"driver-{i}", Start + Lease, CancellationToken.None))));

        var winner = Assert.Single(attempts, a => a is not null)!;
        Assert.Equal(winner.LeaseOwner, (await RotationRows.ReadAsync(tables, rotation)).GetString(RotationColumns.LeaseOwner));
        Assert.Empty(await leases.FindDueAsync(Start, [], CancellationToken.None));
    }

    [Fact]
    public async Task Two_drivers_on_one_table_never_run_a_step_of_the_same_rotation_at_once()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 4, wait: TimeSpan.Zero);
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        runner.Hold(0);
        using var first = Driver(tables, runner, time);
        using var second = Driver(tables, runner, time);
        await Task.WhenAll(first.StartAsync(default), second.StartAsync(default));
        await runner.Started(0).WaitAsync(Signal);

        // While one driver is inside step 0, the other sweeps (woken, and by the clock) and finds the row leased.
        var secondSwept = second.NextSweepAsync();
        var firstSwept = first.NextSweepAsync();
        await Task.WhenAll(first.ScheduleAsync(rotation, default), second.ScheduleAsync(rotation, default));
        time.Advance(Poll);
        await Task.WhenAny(firstSwept, secondSwept).Unwrap().WaitAsync(Signal);
        runner.Release(0);
        await runner.Completed(3).WaitAsync(Signal);
        await Task.WhenAll(first.StopAsync(default), second.StopAsync(default));

        Assert.Equal([0, 1, 2, 3], runner.Runs.Select(r => r.Index));
        Assert.Equal(1, runner.MaxInFlight);
    }

    [Fact]
    public async Task A_killed_drivers_lease_runs_out_and_another_driver_resumes_at_the_rows_step()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var killedRunner = new ScriptedStepRunner(tables, time, steps: 3, wait: TimeSpan.Zero);
        var survivorRunner = new ScriptedStepRunner(tables, time, steps: 3, wait: TimeSpan.Zero);
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 1, nextDue: Start);
        // The killed process: inside step 1 it stops (frozen, deaf to its token), before the step's write, never releasing or renewing.
        killedRunner.Freeze(1);
        using var killed = Driver(tables, killedRunner, time);
        await killed.StartAsync(CancellationToken.None);
        await killedRunner.Started(1).WaitAsync(Signal);

        using var survivor = Driver(tables, survivorRunner, time);
        await StartAsync(survivor);
        var beforeExpiry = survivor.NextSweepAsync();
        time.Advance(Lease - TimeSpan.FromSeconds(1));
        await beforeExpiry.WaitAsync(Signal);
        Assert.Empty(survivorRunner.Runs);

        var released = survivor.NextSweepAsync(); // begins after the sweep that takes the row over has released it
        time.Advance(TimeSpan.FromSeconds(1));
        await survivorRunner.Completed(2).WaitAsync(Signal);
        time.Advance(Poll);
        await released.WaitAsync(Signal);
        Assert.Equal([1, 2], survivorRunner.Runs.Select(r => r.Index));
        var row = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal(nameof(RotationStatus.Succeeded), row.GetString(RotationColumns.Status));
        Assert.Equal("", row.GetString(RotationColumns.LeaseOwner));

        // Were the killed one only paused and to come back, its step was cancelled when its lease ran out: it writes nothing.
        killedRunner.Release(1);
        await killed.StopAsync(CancellationToken.None);
        Assert.False(killedRunner.Completed(1).IsCompleted);
        var end = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal(row.ETag, end.ETag);
    }

    [Fact]
    public async Task A_step_that_throws_keeps_its_row_leased_until_the_retry_delay_then_runs_again()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 2, wait: TimeSpan.FromMinutes(10));
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        runner.FailOnce(0);
        using var driver = Driver(tables, runner, time);
        await StartAsync(driver); // its first sweep runs the failing step

        var failed = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal((driver.Owner, Start + new RotationDriverOptions().StepRetryDelay),
            (failed.GetString(RotationColumns.LeaseOwner), failed.GetDateTimeOffset(RotationColumns.LeaseUntil)));
        var polled = driver.NextSweepAsync();
        time.Advance(Poll);
        await polled.WaitAsync(Signal);
        Assert.Single(runner.Runs); // not on every poll

        time.Advance(new RotationDriverOptions().StepRetryDelay - Poll);
        await runner.Completed(0).WaitAsync(Signal);
        Assert.Equal([(rotation, 0), (rotation, 0)], runner.Runs);
        await driver.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ScheduleAsync_runs_a_new_rotation_at_once_without_waiting_for_the_poll()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 2, wait: TimeSpan.FromMinutes(10));
        using var driver = Driver(tables, runner, time);
        await StartAsync(driver);

        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 0, nextDue: Start);
        await driver.ScheduleAsync(rotation, CancellationToken.None);

        await runner.Completed(0).WaitAsync(Signal); // the clock never moved: only the signal can have woken the loop
        Assert.Equal([(rotation, 0)], runner.Runs);
        await driver.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task SignalAbortAsync_runs_a_holding_rotation_now_instead_of_when_its_hold_ends()
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider(Start);
        var runner = new ScriptedStepRunner(tables, time, steps: 5, wait: TimeSpan.FromMinutes(10));
        var rotation = await RotationRows.InsertAsync(tables, stepIndex: 3, nextDue: Start + TimeSpan.FromMinutes(10), abortRequested: true);
        using var driver = Driver(tables, runner, time);
        await StartAsync(driver);

        await driver.SignalAbortAsync(rotation, CancellationToken.None);

        await runner.Completed(3).WaitAsync(Signal);
        Assert.Equal([(rotation, 3)], runner.Runs);
        await driver.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_graceful_stop_lets_the_step_under_way_finish_then_releases_the_lease_and_starts_no_other()
    {
        var (tables, runner, rotation, driver) = await InsideHeldFirstStepAsync();
        using var _ = driver;

        var stop = driver.StopAsync(CancellationToken.None);
        Assert.False(stop.IsCompleted); // waits for the step
        runner.Release(0);
        await stop.WaitAsync(Signal);

        Assert.Equal([(rotation, 0)], runner.Runs);
        var row = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal(1, row.GetInt32(RotationColumns.StepIndex));
        Assert.Equal("", row.GetString(RotationColumns.LeaseOwner));
    }

    [Fact]
    public async Task A_stop_out_of_shutdown_time_cancels_the_step_and_still_releases_the_lease()
    {
        var (tables, _, rotation, driver) = await InsideHeldFirstStepAsync();
        using var _ = driver;

        using var outOfTime = new CancellationTokenSource();
        var stop = driver.StopAsync(outOfTime.Token);
        await outOfTime.CancelAsync();
        await stop.WaitAsync(Signal);
        await driver.ExecuteTask!.WaitAsync(Signal);

        var row = await RotationRows.ReadAsync(tables, rotation);
        Assert.Equal(0, row.GetInt32(RotationColumns.StepIndex)); // the interrupted step wrote nothing; any driver runs it again
        Assert.Equal("", row.GetString(RotationColumns.LeaseOwner));
    }
}
