using Xunit.Abstractions;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using static FuncKeyOps.Tests.Rotation.Server.ServerRotationClock;

namespace FuncKeyOps.Tests.Rotation.Server;

/// <summary>
/// Callers relay chat completions (OpenAI .NET SDK, several at once, without pause) through the Server host while the
/// host's own driver runs a canary rotation of the key they use, started through the admin API with one-second holds
/// and grace on the fake clock. No call fails, and in every shift's hold the new version serves its weight's share.
/// </summary>
public class RotationLoadTests(ITestOutputHelper output)
{
    private const int Callers = 4;

    /// <summary>Calls counted in each phase: before the rotation, during each shift's hold, after it.</summary>
    private const int CallsPerPhase = 300;

    /// <summary>
    /// How far the new version's observed share p of a phase's n calls may be from its weight w: three binomial standard
    /// deviations, plus <see cref="Callers"/>/n for the calls each caller may have had under way across a weight change
    /// (begun before it, its version picked after). At n = 300: ±0.03 at 1 %, ±0.05 at 5 %, ±0.09 at 25 %, ±0.10 at 50 %.
    /// </summary>
    internal static double Tolerance(double w, int n) => 3 * Math.Sqrt(w * (1 - w) / n) + (double)Callers / n;

    [Fact]
    public async Task Callers_see_no_failure_through_a_canary_rotation_and_each_holds_calls_follow_its_weight()
    {
        await using var host = await RotationHost.StartAsync(Settings(), serverDriver: true);
        var key = await host.RegisterKeyAsync(stem: "aaa"); // sorts before openai-main: the relay's OpenAI key
        var (relayKey, secret) = await host.Relay.CreateRelayKeyAsync();
        var oldVersion = Assert.Single((await host.Registry.GetAsync(key))!.Weights).Key;
        var fake = host.Relay.OpenAI;
        // A phase's calls all begin after the weights it stands for were written: the clock moves on a millisecond
        // first, so no call of the phase shares the instant the step recorded (calls begun before it are the previous phase's).
        async Task PhaseAsync()
        {
            host.Time.Advance(TimeSpan.FromMilliseconds(1));
            await fake.WaitForRequestsAsync(fake.Requests.Count + CallsPerPhase + Callers).WaitAsync(Signal);
        }
        RotationId? rotation = null;
        host.CheckedRunner.AfterStep = async (id, index, _) =>
        {
            // Inside the driver, which waits: the shift's weights stay in force until the phase is counted.
            if (id == rotation && (await host.Store.GetAsync(id.KeyName, id.Id))!.Plan.Steps[index].Kind == RotationStepKind.Shift)
                await PhaseAsync();
        };
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var answered = new StrongBox<int>();
        var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(() => CallUntilAsync(host.Relay, secret, failures, answered, stop.Token))).ToList();

        await PhaseAsync();
        rotation = await StartAsync(host, key, RotationStrategy.Canary);
        await AdvanceUntilAsync(host, host.ServerDriver, () => FinishedAsync(host, rotation.Value));
        await PhaseAsync();
        await stop.CancelAsync();
        await Task.WhenAll(callers).WaitAsync(Signal);

        Assert.Empty(failures);
        Assert.Empty(host.CheckedRunner.Violations);
        var record = (await host.Store.GetAsync(key, rotation.Value.Id))!;
        Assert.Equal(RotationStatus.Succeeded, record.Status);
        var newVersion = record.NewVersion!;
        Assert.Equal(new Dictionary<string, int> { [newVersion] = 100 }, (await host.Registry.GetAsync(key))!.Weights.Where(w => w.Value > 0));
        foreach (var (weight, from, until) in Phases(record))
        {
            var phase = await AuditedCallsAsync(host, relayKey.Id, from, until);
            Assert.All(phase, r => Assert.Equal((200, key), (r.Status, r.ProviderKeyName)));
            Assert.All(phase, r => Assert.Contains(r.ProviderKeyVersion, new[] { oldVersion, newVersion }));
            var share = (double)phase.Count(c => c.ProviderKeyVersion == newVersion) / phase.Count;
            var w = weight / 100.0;
            output.WriteLine($"{weight,3} %: new version {share:P1} of {phase.Count} calls (tolerance ±{Tolerance(w, phase.Count):P1})");
            Assert.True(Math.Abs(share - w) <= Tolerance(w, phase.Count),
                $"{weight} %: the new version served {share:P1} of {phase.Count} calls, more than {Tolerance(w, phase.Count):P1} off");
        }
        Assert.True(answered.Value > 0);
    }

    /// <summary>The weight in force between one recorded shift and the next (0 before the first; 100 until the revoke).</summary>
    private static IEnumerable<(int Weight, DateTimeOffset From, DateTimeOffset Until)> Phases(RotationRecord record)
    {
        var shifts = record.History.Where(h => record.Plan.Steps[h.Index].Kind == RotationStepKind.Shift)
            .Select(h => (record.Plan.Steps[h.Index].Weight!.Value, h.Time)).ToList();
        Assert.Equal(RotationPlans.CanaryWeights, shifts.Select(s => s.Value));
        var revoked = record.History.Single(h => record.Plan.Steps[h.Index].Kind == RotationStepKind.Revoke).Time;
        yield return (0, shifts[0].Time - TimeSpan.FromHours(1), shifts[0].Time);
        for (var i = 0; i < shifts.Count; i++)
            yield return (shifts[i].Value, shifts[i].Time, i + 1 < shifts.Count ? shifts[i + 1].Time : revoked);
    }

    /// <summary>
    /// One audit row per call begun strictly between <paramref name="from"/> and <paramref name="until"/> (the attempt
    /// that answered), once the phase's calls are stored: on a loaded machine a write may fail, and the writer then
    /// backs off on the host's clock, which only the test moves.
    /// </summary>
    private static async Task<List<AuditRecord>> AuditedCallsAsync(RotationHost host, string relayKeyId, DateTimeOffset from, DateTimeOffset until)
    {
        for (var attempt = 0; ; attempt++)
        {
            await host.Relay.RowsAsync(relayKeyId); // waits for the host to be idle and flushes the writer
            var rows = await host.Services.GetRequiredService<AuditQuery>().QueryAsync(from, until.AddTicks(1), relayKeyId, AuditQuery.MaxLimit);
            // A phase that lasted long (a loaded machine) may hold more calls than one query returns: those it returns
            // are the earliest, all of them, so the phase up to the last one is a complete sample of the same weight.
            var end = rows.Count < AuditQuery.MaxLimit ? until : rows[^1].Time;
            var calls = rows.Where(r => r.Attempt != 1 && r.Time > from && r.Time < end).ToList();
            if (calls.Count >= CallsPerPhase - Callers || attempt == 10)
            {
                Assert.True(calls.Count >= CallsPerPhase - Callers, $"only {calls.Count} calls audited between {from:O} and {until:O}");
                return calls;
            }
            host.Time.Advance(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task CallUntilAsync(RelayHost relay, string secret, ConcurrentQueue<string> failures, StrongBox<int> answered, CancellationToken stop)
    {
        var chat = RelaySdks.OpenAIChat(relay, secret, retry: false);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var reply = await chat.CompleteChatAsync([new UserChatMessage("hi")]);
                Interlocked.Increment(ref answered.Value);
                if (reply.Value.Content[0].Text != relay.OpenAI.ReplyText)
                    failures.Enqueue($"unexpected reply {reply.Value.Content[0].Text}");
            }
            catch (Exception e)
            {
                failures.Enqueue(e.Message);
            }
        }
    }
}
