using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// The Server host's own driver, with the real step runner, started through the admin API, stops right after one write
/// of a step (the runner's write hook holds its thread there: no later write, no renewal, no release), for every write
/// of an uninterrupted run. A new driver on the same tables takes the row over once the stopped one's lease has run
/// out, and the rotation ends exactly as the uninterrupted one did, with each key made and revoked once at the provider
/// and the invariants holding after every step either driver ran. Then the stopped driver comes back (it was only
/// paused, as by a long GC or a frozen VM) and goes on with its step: it changes nothing, its lease having run out.
/// </summary>
public class ServerDriverCrashTests
{
    [Theory]
    [InlineData(RotationStrategy.Canary)]
    [InlineData(RotationStrategy.Immediate)]
    [InlineData(RotationStrategy.Emergency)]
    public async Task A_driver_stopped_after_any_write_is_taken_over_by_a_new_driver_and_the_rotation_ends_as_an_uninterrupted_one_even_if_the_first_comes_back(RotationStrategy strategy)
    {
        await using var host = await RotationHost.StartAsync(Settings(), serverDriver: true);
        var baselineKey = await host.RegisterKeyAsync();
        var writes = new List<string>();
        host.Runner.AfterWrite = (id, write) =>
        {
            if (id.KeyName == baselineKey)
                writes.Add(write);
        };
        var baseline = await StartAsync(host, baselineKey, strategy);
        await AdvanceUntilAsync(host, host.ServerDriver, () => FinishedAsync(host, baseline));
        var expected = await RotationCrashTests.EndStateAsync(host, baseline);
        Assert.StartsWith(nameof(RotationStatus.Succeeded), expected);
        Assert.Contains("row", writes);
        Assert.Contains(host.CheckedRunner.Steps, s => s.Rotation == baseline); // the host's driver runs through the checking runner

        for (var crashAt = 0; crashAt < writes.Count; crashAt++)
        {
            var key = await host.RegisterKeyAsync();
            var stopped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            var paused = new ManualResetEventSlim(); // never disposed: the paused thread may still be on its way out of Wait
            var seen = 0;
            var at = crashAt;
            host.Runner.AfterWrite = (id, write) =>
            {
                if (id.KeyName != key || stopped.Task.IsCompleted || seen++ != at)
                    return;
                stopped.SetResult(write);
                paused.Wait(); // the process stops here until the test lets it go on
            };
            try
            {
                var where = $"stopped after write {crashAt} ({writes[crashAt]})";
                var rotation = await StopAndTakeOverAsync(host, key, strategy, stopped.Task);
                Assert.True(writes[crashAt] == await stopped.Task, $"{where}: stopped after {await stopped.Task}");
                Assert.True(expected == await RotationCrashTests.EndStateAsync(host, rotation), where);
                Assert.True((1, 1) == (host.Connector.Creates[key], host.Connector.Revokes[key]), where);
                Assert.True(host.CheckedRunner.Violations.IsEmpty, $"{where}: {host.CheckedRunner.Violations.FirstOrDefault()}");
                var row = (await host.Services.GetRequiredService<RotationLeases>().GetAsync(rotation, CancellationToken.None))!;
                // Released; or, stopped after the last step's row write (the row is final: no driver takes it again), it runs out.
                Assert.True(row.IsLeaseFree(host.Time.GetUtcNow() + Lease), $"{where}: still leased by {row.LeaseOwner} until {row.LeaseUntil}");

                var back = host.ServerDriver.NextSweepAsync(); // begins once the paused step has ended
                paused.Set();
                host.Time.Advance(Poll);
                await back.WaitAsync(Signal);
                Assert.True(expected == await RotationCrashTests.EndStateAsync(host, rotation), $"{where}, then the paused driver went on");
                Assert.True((1, 1) == (host.Connector.Creates[key], host.Connector.Revokes[key]), $"{where}, then the paused driver went on");
            }
            finally
            {
                paused.Set(); // so the host's driver serves the next round, or stops
            }
        }
    }

    /// <summary>Starts the rotation, lets the host's driver run it until it stops, then runs a new driver to the end.</summary>
    private static async Task<RotationId> StopAndTakeOverAsync(RotationHost host, string key, RotationStrategy strategy, Task stopped)
    {
        var rotation = await StartAsync(host, key, strategy);
        await AdvanceUntilAsync(host, host.ServerDriver, () => Task.FromResult(stopped.IsCompleted), stopped);
        var leases = host.Services.GetRequiredService<RotationLeases>();
        Assert.Equal(host.ServerDriver.Owner, (await leases.GetAsync(rotation, CancellationToken.None))!.LeaseOwner); // stopped holding it

        using var successor = new RotationDriverService(leases, host.CheckedRunner,
            Options.Create(new RotationDriverOptions { PollInterval = Poll, LeaseLength = Lease }), host.Time, NullLogger<RotationDriverService>.Instance);
        await successor.StartAsync(CancellationToken.None);
        await AdvanceUntilAsync(host, successor, () => FinishedAsync(host, rotation));
        await successor.StopAsync(CancellationToken.None);
        return rotation;
    }
}
