using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The load test's parts, one for each driver: callers relaying chat completions without pause, and the check that
/// each canary shift's weights served the new version its share. A call counts for the weights it was routed with:
/// those in force (<see cref="WeightEpochs"/>) from before it began until after it ended; calls across a step are left
/// out. The version that answered is read from the fake provider's record of the call (its key).
/// </summary>
internal static partial class RotationLoad
{
    public const int Callers = 4;

    /// <summary>Calls counted in each phase: before the rotation and during each shift's hold.</summary>
    public const int CallsPerPhase = 300;

    /// <summary>
    /// How far the new version's observed share p of a phase's n calls may be from its weight w: five binomial standard
    /// deviations (a correct router lands outside about once in two million phases; three would fail one run in a few
    /// dozen, with seven phases and two tests), plus <see cref="Callers"/>/n. Still far tighter than the gap between two
    /// weights: at n = 1,000, ±0.02 at 1 %, ±0.04 at 5 %, ±0.07 at 25 %, ±0.08 at 50 %.
    /// </summary>
    public static double Tolerance(double w, int n) => 5 * Math.Sqrt(w * (1 - w) / n) + (double)Callers / n;

    /// <summary>A call that began and ended within one even epoch: its marker (in its prompt) and the epoch.</summary>
    public sealed record Call(string Marker, int Epoch);

    /// <summary>Starts <see cref="Callers"/> callers that call until <paramref name="stop"/>; every failure is queued, every call within one epoch kept.</summary>
    public static List<Task> StartCallers(RelayHost relay, string secret, WeightEpochs epochs, ConcurrentQueue<Call> calls, ConcurrentQueue<string> failures,
        StrongBox<int> answered, CancellationToken stop) =>
        Enumerable.Range(0, Callers).Select(_ => Task.Run(() => CallUntilAsync(relay, secret, epochs, calls, failures, answered, stop))).ToList();

    /// <summary>Completes once the fake provider has had a phase's calls more than now (plus one under way per caller).</summary>
    public static Task PhaseCountedAsync(RelayHost relay) =>
        relay.OpenAI.WaitForRequestsAsync(relay.OpenAI.Requests.Count + CallsPerPhase + Callers);

    /// <summary>
    /// Asserts, for the weight before the first shift and each shift's, that the calls routed with it all answered from
    /// the old or the new version, that there were a phase's worth, and that the new one served its weight's share
    /// within <see cref="Tolerance"/>.
    /// </summary>
    /// <param name="oldKey">The old version's value, read before the rotation disabled it.</param>
    public static async Task AssertSharesFollowWeightsAsync(RotationHost host, RotationRecord record, string oldVersion, string oldKey, WeightEpochs epochs,
        IEnumerable<Call> calls, ITestOutputHelper output)
    {
        var newVersion = record.NewVersion!;
        var versionOfKey = new Dictionary<string, string>
        {
            [oldKey] = oldVersion,
            [(await host.Secrets.GetAsync(record.KeyName, newVersion)).Value] = newVersion,
        };
        // The last request of each call (a retried call's earlier attempts did not answer it).
        var keyOfCall = new Dictionary<string, string>();
        foreach (var request in host.Relay.OpenAI.Requests)
        {
            if (Marker().Match(Encoding.UTF8.GetString(request.Body)) is { Success: true } marker)
                keyOfCall[marker.Groups[1].Value] = request.Headers.GetValueOrDefault("Authorization", "")["Bearer ".Length..];
        }
        var byWeight = calls.GroupBy(c => epochs.WeightsOf(c.Epoch).GetValueOrDefault(newVersion)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(new[] { 0 }.Concat(RotationPlans.CanaryWeights), byWeight.Keys.Order());
        foreach (var weight in byWeight.Keys.Order())
        {
            var versions = byWeight[weight].Select(c => versionOfKey.GetValueOrDefault(keyOfCall.GetValueOrDefault(c.Marker, "?"), "?")).ToList();
            Assert.All(versions, v => Assert.Contains(v, new[] { oldVersion, newVersion }));
            Assert.True(versions.Count >= CallsPerPhase - Callers, $"{weight} %: only {versions.Count} calls routed with these weights");
            var share = (double)versions.Count(v => v == newVersion) / versions.Count;
            var w = weight / 100.0;
            output.WriteLine($"{weight,3} %: new version {share:P1} of {versions.Count} calls (tolerance ±{Tolerance(w, versions.Count):P1})");
            Assert.True(Math.Abs(share - w) <= Tolerance(w, versions.Count),
                $"{weight} %: the new version served {share:P1} of {versions.Count} calls, more than {Tolerance(w, versions.Count):P1} off");
        }
    }

    private static async Task CallUntilAsync(RelayHost relay, string secret, WeightEpochs epochs, ConcurrentQueue<Call> calls, ConcurrentQueue<string> failures,
        StrongBox<int> answered, CancellationToken stop)
    {
        var chat = RelaySdks.OpenAIChat(relay, secret, retry: false);
        while (!stop.IsCancellationRequested)
        {
            var marker = Guid.NewGuid().ToString("N");
            var began = epochs.Current;
            try
            {
                var reply = await chat.CompleteChatAsync([new UserChatMessage($"call {marker}")]);
                Interlocked.Increment(ref answered.Value);
                if (reply.Value.Content[0].Text != relay.OpenAI.ReplyText)
                    failures.Enqueue($"unexpected reply {reply.Value.Content[0].Text}");
                if (began % 2 == 0 && epochs.Current == began)
                    calls.Enqueue(new Call(marker, began));
            }
            catch (Exception e)
            {
                failures.Enqueue(e.Message);
            }
        }
    }

    [GeneratedRegex("call ([0-9a-f]{32})")]
    private static partial Regex Marker();
}
