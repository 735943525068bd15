using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using FuncKeyOps.Audit;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The load test's parts, one for each driver: callers relaying chat completions without pause, and the check that
/// each canary shift's hold served the new version its weight's share, read from the audit rows between the shift times
/// the rotation row records.
/// </summary>
internal static class RotationLoad
{
    public const int Callers = 4;

    /// <summary>Calls counted in each phase: before the rotation and during each shift's hold.</summary>
    public const int CallsPerPhase = 300;

    /// <summary>
    /// How far the new version's observed share p of a phase's n calls may be from its weight w: three binomial standard
    /// deviations, plus <see cref="Callers"/>/n for the calls each caller may have had under way across a weight change
    /// (begun before it, its version picked after). At n = 300: ±0.03 at 1 %, ±0.05 at 5 %, ±0.09 at 25 %, ±0.10 at 50 %.
    /// </summary>
    public static double Tolerance(double w, int n) => 3 * Math.Sqrt(w * (1 - w) / n) + (double)Callers / n;

    /// <summary>Starts <see cref="Callers"/> callers that call until <paramref name="stop"/>; every failure is queued.</summary>
    public static List<Task> StartCallers(RelayHost relay, string secret, ConcurrentQueue<string> failures, StrongBox<int> answered, CancellationToken stop) =>
        Enumerable.Range(0, Callers).Select(_ => Task.Run(() => CallUntilAsync(relay, secret, failures, answered, stop))).ToList();

    /// <summary>Completes once the fake provider has had a phase's calls more than now (plus one under way per caller).</summary>
    public static Task PhaseCountedAsync(RelayHost relay) =>
        relay.OpenAI.WaitForRequestsAsync(relay.OpenAI.Requests.Count + CallsPerPhase + Callers);

    /// <summary>
    /// Asserts, for the weight before the first shift and each shift's, that the audited calls of its phase all
    /// answered from the old or the new version and that the new one served its weight's share within <see cref="Tolerance"/>.
    /// </summary>
    /// <param name="backOff">Moves a fake clock past the audit writer's back-off after a failed write (null on the system clock).</param>
    public static async Task AssertSharesFollowWeightsAsync(RotationHost host, RotationRecord record, string relayKeyId, string oldVersion,
        ITestOutputHelper output, Action? backOff)
    {
        var newVersion = record.NewVersion!;
        foreach (var (weight, from, until) in Phases(record))
        {
            var phase = await AuditedCallsAsync(host, relayKeyId, from, until, backOff);
            Assert.All(phase, r => Assert.Equal((200, record.KeyName), (r.Status, r.ProviderKeyName)));
            Assert.All(phase, r => Assert.Contains(r.ProviderKeyVersion, new[] { oldVersion, newVersion }));
            var share = (double)phase.Count(c => c.ProviderKeyVersion == newVersion) / phase.Count;
            var w = weight / 100.0;
            output.WriteLine($"{weight,3} %: new version {share:P1} of {phase.Count} calls (tolerance ±{Tolerance(w, phase.Count):P1})");
            Assert.True(Math.Abs(share - w) <= Tolerance(w, phase.Count),
                $"{weight} %: the new version served {share:P1} of {phase.Count} calls, more than {Tolerance(w, phase.Count):P1} off");
        }
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
    /// backs off on the host's clock.
    /// </summary>
    private static async Task<List<AuditRecord>> AuditedCallsAsync(RotationHost host, string relayKeyId, DateTimeOffset from, DateTimeOffset until, Action? backOff)
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
            backOff?.Invoke();
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
