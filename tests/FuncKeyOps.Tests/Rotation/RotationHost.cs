using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using System.Net;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Rotation;

/// <summary>
/// The Server host (Azurite, the test vault, the fake providers) with a recording alert sink, a driver that drives
/// nothing and the test connector, on a fake clock: the tests run the steps themselves and skip the waits. The
/// Durable tests start it on the system clock with their own driver: the engine's timers wait for real. With
/// <c>serverDriver</c> the host's own <see cref="RotationDriverService"/> drives instead, through a step runner that
/// checks <see cref="RotationInvariants"/> after every step it runs. The Server's sweep schedule is left out: the
/// tests sweep and respond to findings themselves.
/// </summary>
internal sealed class RotationHost : IAsyncDisposable
{
    private readonly TimeProvider _clock;

    private RotationHost(RelayHost relay, TimeProvider clock, RecordingAlertSink alerts, TestRotationDriver driver, FakeProviderConnector connector)
    {
        Relay = relay;
        _clock = clock;
        Alerts = alerts;
        Driver = driver;
        Connector = connector;
    }

    public RelayHost Relay { get; }
    /// <summary>The fake clock the steps read; a host started on another clock has none.</summary>
    public FakeTimeProvider Time => _clock as FakeTimeProvider ?? throw new InvalidOperationException("This host runs on the system clock.");
    public RecordingAlertSink Alerts { get; }
    public TestRotationDriver Driver { get; }
    public FakeProviderConnector Connector { get; }
    public IServiceProvider Services => Relay.Services;
    public RotationStepRunner Runner => Services.GetRequiredService<RotationStepRunner>();
    public RotationStore Store => Services.GetRequiredService<RotationStore>();
    public ProviderKeyRegistry Registry => Services.GetRequiredService<ProviderKeyRegistry>();
    public ISecretStore Secrets => Services.GetRequiredService<ISecretStore>();

    /// <summary>The Server host's own driver (with <c>serverDriver</c>; otherwise <c>Rotation:Drive</c> is false and it stays idle).</summary>
    public RotationDriverService ServerDriver => Services.GetRequiredService<RotationDriverService>();

    /// <summary>The step runner the Server driver uses: with <c>serverDriver</c>, the real one checking the invariants after each step.</summary>
    public CheckedStepRunner CheckedRunner => (CheckedStepRunner)Services.GetRequiredService<IRotationStepRunner>();

    /// <param name="time">The clock; a <see cref="FakeTimeProvider"/> when null.</param>
    /// <param name="configure">More registrations, after the host's (e.g. another <see cref="IRotationDriver"/>).</param>
    /// <param name="serverDriver">The host's <see cref="RotationDriverService"/> drives the rotations the admin API starts.</param>
    public static async Task<RotationHost> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null,
        Action<IServiceCollection>? configure = null, bool serverDriver = false)
    {
        time ??= new FakeTimeProvider(DateTimeOffset.UtcNow);
        var alerts = new RecordingAlertSink();
        var driver = new TestRotationDriver();
        var connector = new FakeProviderConnector();
        RotationHost? host = null;
        // Unless asked, the tests (or the Durable engine) run the steps: the Server's own driver would run them too.
        var hostSettings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>()) { ["Rotation:Drive"] = serverDriver ? "true" : "false" };
        var relay = await RelayHost.StartAsync(settings: hostSettings, time: time, configure: builder =>
        {
            builder.Services.AddSingleton<IAlertSink>(alerts);
            builder.Services.AddSingleton<IKeyConnector>(connector);
            // The tests run the sweep and the findings responder themselves: the Server's own sweep schedule, on the same
            // fake clock, would wake at each Advance and retry their findings at once (the same responder, its test hooks
            // included), so a test would read a finding while the schedule's run was still acting on it.
            builder.Services.Remove(builder.Services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(SweepScheduleService)));
            if (serverDriver)
                builder.Services.AddSingleton<IRotationStepRunner>(sp => new CheckedStepRunner(sp.GetRequiredService<RotationStepRunner>(), () => host!));
            else
                builder.Services.AddSingleton<IRotationDriver>(driver);
            configure?.Invoke(builder.Services);
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

    /// <summary>
    /// The provider starts refusing the rotation's new key, then relay calls go out until <paramref name="calls"/> of
    /// them reached it (each is audited as failed, and retried by the relay on the old version, so the client sees
    /// none fail). Returns once every audit row is stored, so an analysis run next reads them all.
    /// </summary>
    /// <returns>How many calls reached the new key.</returns>
    public async Task<int> RefuseNewKeyUnderTrafficAsync(RotationId rotation, string relayKey, int calls)
    {
        var newKey = Connector.KeyOf(rotation.Id)!;
        Relay.OpenAI.RevokeKey(newKey);
        var sentToNew = 0;
        for (var call = 0; call < 600 && sentToNew < calls; call++)
        {
            var before = Relay.OpenAI.Requests.Count;
            using var response = await Relay.Client.SendAsync(ProviderKeyCalls.OpenAIChat(relayKey));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            sentToNew += Relay.OpenAI.Requests.Skip(before).Count(r => r.Headers.GetValueOrDefault("Authorization") == "Bearer " + newKey);
        }
        await Relay.RowsAsync(null);
        return sentToNew;
    }

    public async Task<IReadOnlyDictionary<string, SecretVersionInfo>> VersionsAsync(string keyName) =>
        (await Secrets.ListVersionsAsync(keyName)).ToDictionary(v => v.Version);

    public ValueTask DisposeAsync() => Relay.DisposeAsync();
}

internal sealed class SimulatedCrash(string write) : Exception($"simulated crash after {write}");
