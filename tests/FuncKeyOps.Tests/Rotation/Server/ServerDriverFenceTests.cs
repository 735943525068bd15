using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Testing.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// A driver paused with a write on the wire (not in its process: its cancellation cannot stop it) while its lease runs
/// out and another driver takes the row over: the write, when it reaches storage, is refused.
/// </summary>
public class ServerDriverFenceTests
{
    [Fact]
    public async Task A_weights_write_in_flight_when_the_lease_runs_out_never_lands_after_another_driver_took_the_row_over()
    {
        using var inFlight = new InFlightTableWrite();
        var connectionString = await SharedAzurite.GetConnectionStringAsync();
        await using var host = await RotationHost.StartAsync(Settings(), serverDriver: true,
            configure: services => services.AddSingleton(inFlight.Service(connectionString)));
        var key = await host.RegisterKeyAsync();
        var old = Assert.Single((await host.Registry.GetAsync(key))!.Weights).Key;
        // The canary's first shift: {new: 1, old: 99}, written to the key's providerkeys row.
        inFlight.Arm((path, body) => path.Contains(key, StringComparison.Ordinal) && body.Contains(":99", StringComparison.Ordinal));
        try
        {
            var rotation = await StartAsync(host, key, RotationStrategy.Canary);
            await AdvanceUntilAsync(host, host.ServerDriver, () => Task.FromResult(inFlight.Held.IsCompleted), inFlight.Held);
            // An operator aborts meanwhile; the driver that takes the row over rolls back. The weights it finds are
            // the old ones (the shift has not landed), so the rollback itself writes none.
            await host.Services.GetRequiredService<RotationService>().AbortAsync(rotation, CancellationToken.None);
            var leases = host.Services.GetRequiredService<RotationLeases>();
            using (var successor = new RotationDriverService(leases, host.CheckedRunner,
                Options.Create(new RotationDriverOptions { PollInterval = Poll, LeaseLength = Lease }), host.Time, NullLogger<RotationDriverService>.Instance))
            {
                await successor.StartAsync(CancellationToken.None);
                await AdvanceUntilAsync(host, successor, () => FinishedAsync(host, rotation));
                await successor.StopAsync(CancellationToken.None);
            }
            Assert.Equal(RotationStatus.Aborted, (await host.Store.GetAsync(key, rotation.Id))!.Status);

            var back = host.ServerDriver.NextSweepAsync(); // ends once the paused driver's step has ended
            inFlight.Release();
            Assert.Equal(412, await inFlight.Landed.WaitAsync(Signal));
            host.Time.Advance(Poll);
            await back.WaitAsync(Signal);

            Assert.Equal(new Dictionary<string, int> { [old] = 100 }, (await host.Registry.GetAsync(key))!.Weights.Where(w => w.Value > 0));
            Assert.Empty(host.CheckedRunner.Violations);
        }
        finally
        {
            inFlight.Release();
        }
    }
}
