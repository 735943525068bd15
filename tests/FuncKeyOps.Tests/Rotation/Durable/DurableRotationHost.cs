using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// A <see cref="RotationHost"/> (Azurite, the test vault, the fake providers, the real step runner) on the system
/// clock, whose rotations the in-process Durable engine drives: <see cref="RotationService"/> schedules and signals
/// them through <see cref="DurableRotationDriver"/>, and the step activity calls the host's runner through a
/// <see cref="CheckedStepRunner"/>.
/// </summary>
internal sealed class DurableRotationHost : IAsyncDisposable
{
    private readonly DurableEngine _engine;

    private DurableRotationHost(DurableEngine engine, RotationHost host)
    {
        _engine = engine;
        Host = host;
        Runner = new CheckedStepRunner(host);
    }

    public RotationHost Host { get; }
    public CheckedStepRunner Runner { get; }
    public RotationService Service => Host.Services.GetRequiredService<RotationService>();

    /// <param name="settings">More settings, over <see cref="ShortGrace"/>'s: the engine's timers wait out the revoke grace for real.</param>
    /// <param name="configure">More registrations (e.g. a connector's HTTP handler).</param>
    public static async Task<DurableRotationHost> StartAsync(DurableEngine engine, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? configure = null) =>
        new(engine, await RotationHost.StartAsync(ShortGrace.With(settings), TimeProvider.System, services =>
        {
            services.AddDurableRotationDriver(_ => engine.Client);
            configure?.Invoke(services);
        }));

    /// <summary>Starts a rotation through the admin path (<see cref="IRotationStarter"/>), which schedules its orchestration.</summary>
    public Task<RotationId> StartRotationAsync(string keyName, RotationStrategy strategy, TimeSpan holds)
    {
        _engine.Drive(keyName, Runner);
        return Host.StartRotationAsync(keyName, strategy, holds);
    }

    /// <summary>A bound on a whole rotation here: what the engine's tests allow, and the revoke grace its timer waits out.</summary>
    private static readonly TimeSpan CompletionBound = TimeSpan.FromSeconds(30) + ShortGrace.Bound;

    /// <summary>Waits for the orchestration to complete (bounded) and returns the status it ended with; no step broke an invariant.</summary>
    /// <param name="timeout">The bound, when the steps wait on more than the engine (e.g. calls to be counted).</param>
    public async Task<RotationStatus> CompletionAsync(RotationId rotation, TimeSpan? timeout = null)
    {
        var done = await _engine.WaitForCompletionAsync(rotation, timeout ?? CompletionBound);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{done.RuntimeStatus}: {done.FailureDetails}");
        // Whole, not as Assert.Empty shows a collection (its first line cut short: all a CI log would keep).
        Assert.True(Runner.Violations.Count == 0, string.Join("\n", Runner.Violations));
        return done.ReadOutputAs<RotationStatus>();
    }

    /// <summary>How many times the orchestration body ran for the rotation's instance (each replay is one).</summary>
    public int Executions(RotationId rotation) => _engine.Executions(rotation);

    public async Task<RotationRecord> RecordAsync(RotationId rotation) => (await Host.Store.GetAsync(rotation.KeyName, rotation.Id))!;

    public async Task<IReadOnlyDictionary<string, int>> WeightsAsync(string keyName) => (await Host.Registry.GetAsync(keyName))!.Weights;

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
