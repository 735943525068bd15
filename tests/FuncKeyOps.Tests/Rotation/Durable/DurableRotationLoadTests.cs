using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FuncKeyOps.Rotation;
using Xunit.Abstractions;
using static FuncKeyOps.Tests.Rotation.RotationLoad;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// Callers relay chat completions (OpenAI .NET SDK, several at once, without pause) through the Server host's relay
/// while the in-process Durable engine drives a canary rotation of the key they use over the real step runner, its
/// holds real durable timers. No call fails, and the calls routed with each shift's weights served the new version its
/// weight's share (<see cref="RotationLoad.Tolerance"/>).
/// </summary>
public class DurableRotationLoadTests(DurableEngine engine, ITestOutputHelper output) : IClassFixture<DurableEngine>
{
    /// <summary>Each shift's hold and the revoke grace: durable timers, kept short, since the calls are counted, not timed.</summary>
    private static readonly TimeSpan Hold = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan Signal = TimeSpan.FromSeconds(60);

    /// <summary>Seven phases' calls on a loaded machine: far more than the engine's own default bound.</summary>
    private static readonly TimeSpan Rotation = TimeSpan.FromMinutes(4);

    /// <summary>The canary plan's shifts (after create and validate, each followed by its analysis).</summary>
    private static readonly int[] ShiftIndexes = [.. RotationPlans.CanaryWeights.Select((_, i) => 2 + 2 * i)];

    [Fact]
    public async Task Callers_see_no_failure_through_a_durable_canary_rotation_and_each_holds_calls_follow_its_weight()
    {
        await using var d = await DurableRotationHost.StartAsync(engine);
        var key = await d.Host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var (_, secret) = await d.Host.Relay.CreateRelayKeyAsync();
        var oldVersion = Assert.Single((await d.WeightsAsync(key)).Keys);
        var oldKey = (await d.Host.Secrets.GetAsync(key, oldVersion)).Value;
        var epochs = new WeightEpochs(await d.WeightsAsync(key));
        d.Runner.Epochs = epochs;
        // The step after each shift (its analysis) waits until the phase's calls are counted, so the shift's weights
        // stay in force that long whatever the hold; counting starts once the shift answered.
        foreach (var shift in ShiftIndexes)
            d.Runner.HoldBack(shift + 1, PhaseAfterAsync(d.Runner.Completed(shift), d.Host));
        using var stop = new CancellationTokenSource();
        var calls = new ConcurrentQueue<Call>();
        var failures = new ConcurrentQueue<string>();
        var answered = new StrongBox<int>();
        var callers = StartCallers(d.Host.Relay, secret, epochs, calls, failures, answered, stop.Token);

        await PhaseCountedAsync(d.Host.Relay).WaitAsync(Signal);
        var rotation = await d.StartRotationAsync(key, RotationStrategy.Canary, Hold);
        Assert.Equal(RotationStatus.Succeeded, await d.CompletionAsync(rotation, Rotation));
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(Signal);

        Assert.Empty(failures);
        var record = await d.RecordAsync(rotation);
        Assert.Equal(ShiftIndexes, record.Plan.Steps.Select((s, i) => (s.Kind, i)).Where(s => s.Kind == RotationStepKind.Shift).Select(s => s.i));
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, (await d.WeightsAsync(key)).Where(w => w.Value > 0));
        await AssertSharesFollowWeightsAsync(d.Host, record, oldVersion, oldKey, epochs, calls, output);
        Assert.True(answered.Value > 0);
    }

    private static async Task PhaseAfterAsync(Task shifted, RotationHost host)
    {
        await shifted;
        await PhaseCountedAsync(host.Relay);
    }
}
