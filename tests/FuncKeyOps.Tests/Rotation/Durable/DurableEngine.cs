using System.Collections.Concurrent;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Durable;
using FuncKeyOps.Testing.Logging;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// The Durable Task engine in-process (with replay), running the orchestration and activity the Functions app
/// registers: <see cref="RotationOrchestration.RunAsync"/> and <see cref="RotationStepActivity"/>. Shared by a test
/// class; each test uses its own key, so its own instance <c>rotation-{key}</c> and its own runner (scripted, or a
/// host's real one).
/// </summary>
public sealed class DurableEngine : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, IRotationStepRunner> _runners = new();
    private readonly ConcurrentDictionary<string, int> _executions = new();
    private DurableTaskTestHost? _host;

    /// <summary>The same orchestration with retries short enough to exhaust in a test.</summary>
    public const string QuickRetriesOrchestration = RotationOrchestration.Name + "QuickRetries";

    public static readonly RotationOrchestrationOptions QuickRetries = new()
    {
        StepRetry = new RetryPolicy(maxNumberOfAttempts: 2, firstRetryInterval: TimeSpan.FromMilliseconds(100)),
        RetryAfterFailure = TimeSpan.FromSeconds(1),
    };

    public CapturingLoggerProvider Logs { get; } = new();

    public DurableTaskClient Client => _host?.Client ?? throw new InvalidOperationException("The engine has not started.");

    public IRotationDriver Driver => new DurableRotationDriver(() => Client);

    /// <summary>A new rotation of a key of its own, driven by <paramref name="script"/>.</summary>
    public (RotationId Rotation, ScriptedStepRunner Runner) NewRotation(params RotationStepResult[] script)
    {
        var rotation = new RotationId("key-" + Guid.NewGuid().ToString("N")[..12], Guid.NewGuid().ToString("N"));
        var runner = new ScriptedStepRunner(script);
        _runners[rotation.KeyName] = runner;
        return (rotation, runner);
    }

    /// <summary>Makes <paramref name="runner"/> the one the step activity calls for the key's rotations.</summary>
    public void Drive(string keyName, IRotationStepRunner runner) => _runners[keyName] = runner;

    /// <summary>How many times the orchestration body started for the instance (every replay is one).</summary>
    public int Executions(RotationId rotation) => _executions.GetValueOrDefault(rotation.InstanceId);

    public async Task<OrchestrationMetadata> WaitForCompletionAsync(RotationId rotation, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        return await Client.WaitForInstanceCompletionAsync(rotation.InstanceId, getInputsAndOutputs: true, cancel.Token);
    }

    public async Task InitializeAsync()
    {
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Information));
        // The test host picks a random port without asking the system, so on a busy machine it can collide:
        // another pick is the remedy.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _host = await DurableTaskTestHost.StartAsync(Register, new DurableTaskTestHostOptions { LoggerFactory = loggerFactory });
                return;
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    private void Register(DurableTaskRegistry tasks)
    {
        tasks.AddOrchestratorFunc<RotationStepInput, RotationStatus>(RotationOrchestration.Name, (context, input) =>
        {
            _executions.AddOrUpdate(context.InstanceId, 1, (_, count) => count + 1);
            return RotationOrchestration.RunAsync(context, input);
        });
        tasks.AddOrchestratorFunc<RotationStepInput, RotationStatus>(QuickRetriesOrchestration, (context, input) =>
            RotationOrchestration.RunAsync(context, input, QuickRetries));
        tasks.AddActivityFunc<RotationStepInput, RotationStepResult>(RotationStepActivity.Name, (_, input) =>
            new RotationStepActivity(_runners[input.Rotation.KeyName]).RunAsync(input, CancellationToken.None));
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
            await _host.DisposeAsync();
    }
}
