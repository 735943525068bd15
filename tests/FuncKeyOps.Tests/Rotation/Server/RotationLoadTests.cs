using Xunit.Abstractions;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FuncKeyOps.Rotation;
using static FuncKeyOps.Tests.Rotation.RotationLoad;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// Callers relay chat completions (OpenAI .NET SDK, several at once, without pause) through the Server host while the
/// host's own driver runs a canary rotation of the key they use, started through the admin API with one-second holds
/// on the fake clock, then the grace (<see cref="ServerRotationClock.Grace"/>). No call fails, and the calls routed with each shift's weights served the new version
/// its weight's share (<see cref="RotationLoad.Tolerance"/>).
/// </summary>
public class RotationLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Callers_see_no_failure_through_a_canary_rotation_and_each_holds_calls_follow_its_weight()
    {
        await using var host = await RotationHost.StartAsync(Settings(), serverDriver: true);
        var key = await host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var (_, secret) = await host.Relay.CreateRelayKeyAsync();
        var oldVersion = Assert.Single((await host.Registry.GetAsync(key))!.Weights).Key;
        var oldKey = (await host.Secrets.GetAsync(key, oldVersion)).Value;
        var epochs = new WeightEpochs((await host.Registry.GetAsync(key))!.Weights);
        RotationId? rotation = null;
        host.CheckedRunner.AfterStep = async (id, index, _) =>
        {
            // Inside the driver, which waits: the shift's weights stay in force until the phase is counted.
            if (id == rotation && (await host.Store.GetAsync(id.KeyName, id.Id))!.Plan.Steps[index].Kind == RotationStepKind.Shift)
                await PhaseCountedAsync(host.Relay).WaitAsync(Signal);
        };
        using var stop = new CancellationTokenSource();
        var calls = new ConcurrentQueue<Call>();
        var failures = new ConcurrentQueue<string>();
        var answered = new StrongBox<int>();
        var callers = StartCallers(host.Relay, secret, epochs, calls, failures, answered, stop.Token);

        await PhaseCountedAsync(host.Relay).WaitAsync(Signal);
        host.CheckedRunner.Epochs = epochs; // the host's driver runs no other rotation's steps
        rotation = await StartAsync(host, key, RotationStrategy.Canary);
        await AdvanceUntilAsync(host, host.ServerDriver, () => FinishedAsync(host, rotation.Value));
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(Signal);

        Assert.Empty(failures);
        Assert.Empty(host.CheckedRunner.Violations);
        var record = (await host.Store.GetAsync(key, rotation.Value.Id))!;
        Assert.Equal(RotationStatus.Succeeded, record.Status);
        Assert.Equal(Grace, record.Plan.Steps[^2].Grace); // the one-second holds never shorten it: it passed a poll at a time
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await host.Registry.GetAsync(key))!.Weights.Where(w => w.Value > 0));
        await AssertSharesFollowWeightsAsync(host, record, oldVersion, oldKey, epochs, calls, output);
        Assert.True(answered.Value > 0);
    }
}
