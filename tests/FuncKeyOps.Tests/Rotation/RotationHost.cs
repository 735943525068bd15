using FuncKeyOps.Alerts;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The Server host (Azurite, the test vault, the fake providers) with a recording alert sink, a driver that drives
/// nothing and the test connector, on a fake clock: the tests run the steps themselves and skip the waits. With
/// <c>serverDriver</c> the host's own <see cref="RotationDriverService"/> drives instead, through a step runner that
/// checks <see cref="RotationInvariants"/> after every step it runs.
/// </summary>
internal sealed class RotationHost : IAsyncDisposable
{
    private RotationHost(RelayHost relay, FakeTimeProvider time, RecordingAlertSink alerts, TestRotationDriver driver, FakeProviderConnector connector)
    {
        Relay = relay;
        Time = time;
        Alerts = alerts;
        Driver = driver;
        Connector = connector;
    }

    public RelayHost Relay { get; }
    public FakeTimeProvider Time { get; }
    public RecordingAlertSink Alerts { get; }
    public TestRotationDriver Driver { get; }
    public FakeProviderConnector Connector { get; }
    public IServiceProvider Services => Relay.Services;
    public RotationStepRunner Runner => Services.GetRequiredService<RotationStepRunner>();
    public RotationStore Store => Services.GetRequiredService<RotationStore>();
    public ProviderKeyRegistry Registry => Services.GetRequiredService<ProviderKeyRegistry>();
    public ISecretStore Secrets => Services.GetRequiredService<ISecretStore>();

    /// <summary>The Server host's own driver (with <c>serverDriver</c>; otherwise it only polls on the fake clock and finds nothing due early).</summary>
    public RotationDriverService ServerDriver => Services.GetRequiredService<RotationDriverService>();

    /// <summary>The step runner the Server driver uses: with <c>serverDriver</c>, the real one checking the invariants after each step.</summary>
    public CheckedStepRunner CheckedRunner => (CheckedStepRunner)Services.GetRequiredService<IRotationStepRunner>();

    /// <param name="serverDriver">The host's <see cref="RotationDriverService"/> drives the rotations the admin API starts.</param>
    public static async Task<RotationHost> StartAsync(IDictionary<string, string?>? settings = null, bool serverDriver = false)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var alerts = new RecordingAlertSink();
        var driver = new TestRotationDriver();
        var connector = new FakeProviderConnector();
        RotationHost? host = null;
        var relay = await RelayHost.StartAsync(settings: settings, time: time, configure: builder =>
        {
            builder.Services.AddSingleton<IAlertSink>(alerts);
            builder.Services.AddSingleton<IKeyConnector>(connector);
            if (serverDriver)
                builder.Services.AddSingleton<IRotationStepRunner>(sp => new CheckedStepRunner(sp.GetRequiredService<RotationStepRunner>(), () => host!));
            else
                builder.Services.AddSingleton<IRotationDriver>(driver);
        });
        connector.Provider = relay.OpenAI;
        return host = new RotationHost(relay, time, alerts, driver, connector);
    }

    /// <summary>
    /// A new OpenAI provider key (a name that sorts after the fixture's, so the relay keeps using <c>openai-main</c>
    /// unless the test asks) whose one version serves, accepted by the fake and known to the test connector.
    /// </summary>
    public async Task<string> RegisterKeyAsync(string connector = FakeProviderConnector.ConnectorName, string stem = "rot")
    {
        var name = $"{stem}-{Guid.NewGuid():N}"[..20];
        var value = "fake-initial-" + Guid.NewGuid().ToString("N");
        var providerKeyId = "id-" + value[^12..];
        Relay.OpenAI.AcceptKey(value);
        Connector.InitialKeys[providerKeyId] = value;
        var version = Relay.Server.Vault.SetSecretDirect(name, value,
            new Dictionary<string, string> { [SecretTags.State] = "active", [SecretTags.ProviderKeyId] = providerKeyId });
        await Registry.PutAsync(new ProviderKeyConfig
        {
            Name = name,
            Provider = "openai",
            BaseUrl = Relay.OpenAI.BaseUri,
            SecretName = name,
            Connector = connector,
            Weights = new Dictionary<string, int> { [version] = ProviderKeyActivation.FullWeight },
        });
        return name;
    }

    public async Task<RotationId> StartRotationAsync(string keyName, RotationStrategy strategy, TimeSpan? holds = null)
    {
        var start = await Services.GetRequiredService<IRotationStarter>().StartAsync(new RotationRequest(keyName, strategy, "test", holds), CancellationToken.None);
        Assert.Equal(RotationStartOutcome.Started, start.Outcome);
        return start.Rotation!.Value;
    }

    /// <summary>
    /// Runs steps as a driver would (the index each result names, after its wait, skipped on the fake clock), checking
    /// the invariants after every step. <paramref name="onWait"/> runs when a step asks to be run again (a poll);
    /// <paramref name="afterStep"/> after each step. A step that throws (a simulated crash) is run again.
    /// </summary>
    public async Task<RotationStatus> DriveAsync(RotationId rotation, Func<int, Task>? onWait = null, Func<int, RotationStepResult, Task>? afterStep = null,
        int maxSteps = 100)
    {
        var index = 0;
        for (var run = 0; run < maxSteps; run++)
        {
            RotationStepResult result;
            try
            {
                result = await Runner.RunStepAsync(rotation, index, CancellationToken.None);
            }
            catch (SimulatedCrash)
            {
                continue; // the driver runs the same step again, as both drivers do after a failed activity or a lost lease
            }
            await RotationInvariants.CheckAsync(this, rotation, index, result);
            if (afterStep is not null)
                await afterStep(index, result);
            if (result.IsFinal)
                return result.Status;
            if (result.NextIndex == index && onWait is not null)
                await onWait(index);
            if (result.Wait > TimeSpan.Zero)
                Time.Advance(result.Wait);
            index = result.NextIndex!.Value;
        }
        throw new InvalidOperationException($"The rotation {rotation} did not finish in {maxSteps} steps.");
    }

    public async Task<IReadOnlyDictionary<string, SecretVersionInfo>> VersionsAsync(string keyName) =>
        (await Secrets.ListVersionsAsync(keyName)).ToDictionary(v => v.Version);

    public ValueTask DisposeAsync() => Relay.DisposeAsync();
}

internal sealed class SimulatedCrash(string write) : Exception($"simulated crash after {write}");
