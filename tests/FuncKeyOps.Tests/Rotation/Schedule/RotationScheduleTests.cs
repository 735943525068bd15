using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Schedule;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Secrets;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Rotation.Schedule;

/// <summary>
/// The daily schedule against Azurite and the test vault. The vault and the schedule share a <see cref="FakeTimeProvider"/>,
/// so a version's CreatedOn is the fake "now" it was stored at, and moving the clock ages it.
/// </summary>
public sealed class RotationScheduleTests : IAsyncLifetime
{
    private const string Policy = """{"period":"P30D","warningWindow":"P5D","strategy":"blue-green","holds":"PT1S"}""";
    private static readonly DateTimeOffset Start = new(2026, 10, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly RecordingRotationStarter _starter = new();
    private readonly RecordingAlertSink _alerts = new();
    private TestVault _vault = null!;
    private ISecretStore _secrets = null!;
    private ProviderKeyRegistry _registry = null!;

    public async Task InitializeAsync()
    {
        _vault = await TestVault.StartAsync(new TestVaultOptions { TimeProvider = _time });
        _secrets = new KeyVaultSecretStore(TestVaults.ProductClient(_vault), new SecretRedactor());
        _registry = new ProviderKeyRegistry(await TestTables.CreateAsync(), Options.Create(new ProviderKeyOptions()), _time);
    }

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    private RotationSchedule Schedule() => new(_registry, _secrets, _starter, _alerts, _time, NullLogger<RotationSchedule>.Instance);

    /// <summary>Registers a key whose only version, stored now, is active with all the weight.</summary>
    private async Task<(string Name, string Version)> RegisterAsync(string? policy = Policy)
    {
        var name = TestNames.NewSecretName("sched");
        var version = await _secrets.SetAsync(name, "fake-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string> { [SecretTags.State] = "active" });
        await _registry.PutAsync(new ProviderKeyConfig
        {
            Name = name, Provider = "openai", BaseUrl = new Uri("https://api.openai.example/"), SecretName = name, Policy = policy,
            Weights = new Dictionary<string, int> { [version.Version] = 100 },
        });
        return (name, version.Version);
    }

    [Fact]
    public async Task A_key_past_its_period_gets_a_rotation_with_its_policys_strategy_and_holds()
    {
        var (name, _) = await RegisterAsync();
        _time.Advance(TimeSpan.FromDays(30));

        var run = await Schedule().RunAsync(CancellationToken.None);

        var request = Assert.Single(_starter.Requests);
        Assert.Equal(new RotationRequest(name, RotationStrategy.BlueGreen, "scheduled: past its rotation period", TimeSpan.FromSeconds(1), "schedule"), request);
        var key = Assert.Single(run.Keys);
        Assert.Equal(ScheduleAction.RotationStarted, key.Action);
        Assert.Equal(TimeSpan.FromDays(30), key.Age);
        Assert.Equal(0, _alerts.Published);

        // The next day's run finds it rotating: fine, nothing else happens.
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(ScheduleAction.AlreadyRotating, Assert.Single((await Schedule().RunAsync(CancellationToken.None)).Keys).Action);
        Assert.Equal(0, _alerts.Published);
    }

    [Fact]
    public async Task The_age_is_the_serving_versions_not_the_newest_staged_ones()
    {
        var (name, _) = await RegisterAsync();
        _time.Advance(TimeSpan.FromDays(29));
        await _secrets.SetAsync(name, "fake-staged-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string> { [SecretTags.State] = "pending" });
        _time.Advance(TimeSpan.FromDays(2));

        var run = await Schedule().RunAsync(CancellationToken.None);

        Assert.Equal(ScheduleAction.RotationStarted, Assert.Single(run.Keys).Action);
        Assert.Equal(TimeSpan.FromDays(31), run.Keys[0].Age);
    }

    [Fact]
    public async Task A_key_in_its_warning_window_is_alerted_once_a_day_and_not_rotated()
    {
        var (name, version) = await RegisterAsync();
        _time.Advance(TimeSpan.FromDays(26));

        var first = await Schedule().RunAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromHours(6));
        await Schedule().RunAsync(CancellationToken.None);

        Assert.Equal(ScheduleAction.Warned, Assert.Single(first.Keys).Action);
        Assert.Equal(2, _alerts.Published);
        var alert = Assert.Single(_alerts.Alerts);
        Assert.Equal(("key.rotation_due", name), (alert.Kind, alert.Subject));
        Assert.Equal($"key.rotation_due:{name}:2026-10-27", alert.DedupeKey);
        Assert.Equal(version, alert.Details!["version"]);
        Assert.Equal("2026-10-31", alert.Details["dueOn"]);
        Assert.DoesNotContain("fake-", alert.Message);

        _time.Advance(TimeSpan.FromDays(1));
        await Schedule().RunAsync(CancellationToken.None);
        Assert.Equal(2, _alerts.Alerts.Count);
        Assert.Empty(_starter.Requests);
    }

    [Fact]
    public async Task A_fresh_key_is_left_alone()
    {
        await RegisterAsync();
        _time.Advance(TimeSpan.FromDays(24));

        var run = await Schedule().RunAsync(CancellationToken.None);

        Assert.Equal(ScheduleAction.None, Assert.Single(run.Keys).Action);
        Assert.Empty(_starter.Requests);
        Assert.Equal(0, _alerts.Published);
    }

    [Fact]
    public async Task A_key_without_an_active_version_or_a_readable_policy_is_skipped_and_the_others_still_reviewed()
    {
        var (old, _) = await RegisterAsync(policy: null); // default policy: 90 days
        var (unreadable, _) = await RegisterAsync(policy: """{"period":"soon"}""");
        var staged = TestNames.NewSecretName("sched");
        await _secrets.SetAsync(staged, "fake-" + Guid.NewGuid().ToString("N"), new Dictionary<string, string> { [SecretTags.State] = "pending" });
        await _registry.PutAsync(new ProviderKeyConfig { Name = staged, Provider = "openai", BaseUrl = new Uri("https://api.openai.example/"), SecretName = staged });
        _time.Advance(TimeSpan.FromDays(90));

        var run = await Schedule().RunAsync(CancellationToken.None);

        Assert.Equal(ScheduleAction.RotationStarted, run.Keys.Single(k => k.KeyName == old).Action);
        Assert.Equal(ScheduleAction.Skipped, run.Keys.Single(k => k.KeyName == unreadable).Action);
        Assert.Equal(ScheduleAction.Skipped, run.Keys.Single(k => k.KeyName == staged).Action);
        Assert.Equal(RotationStrategy.Canary, Assert.Single(_starter.Requests).Strategy);
    }

    [Fact]
    public async Task The_service_runs_the_schedule_at_each_cron_occurrence_in_utc()
    {
        _time.AdjustTime(new DateTimeOffset(2026, 11, 27, 2, 59, 0, TimeSpan.Zero));
        var (name, _) = await RegisterAsync();
        _time.AdjustTime(new DateTimeOffset(2027, 11, 27, 2, 59, 0, TimeSpan.Zero)); // a year on: past any period
        // Six fields, as the Functions app's timer reads the same setting: the same time.
        using var service = new RotationScheduleService(Schedule(), Options.Create(new RotationScheduleOptions { Schedule = "0 0 3 * * *" }), Options.Create(new RotationDriverOptions()), _time,
            NullLogger<RotationScheduleService>.Instance);
        await service.StartAsync(CancellationToken.None);
        Assert.Equal(new DateTimeOffset(2027, 11, 27, 3, 0, 0, TimeSpan.Zero), service.NextRun);

        var ran = service.NextRunCompleted;
        _time.Advance(TimeSpan.FromMinutes(1));
        var run = await ran.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(new DateTimeOffset(2027, 11, 27, 3, 0, 0, TimeSpan.Zero), run.Time);
        Assert.Equal(name, Assert.Single(_starter.Requests).KeyName);
        Assert.Equal(new DateTimeOffset(2027, 11, 28, 3, 0, 0, TimeSpan.Zero), service.NextRun);
        await service.StopAsync(CancellationToken.None);
    }
}
