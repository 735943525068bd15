using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Alerts;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Schedule;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Secrets;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Rotation.Server;

public class RotationServerRegistrationTests
{
    private sealed class OtherDriver : IRotationDriver
    {
        public Task<bool> IsRunningAsync(string keyName, CancellationToken cancellationToken) => Task.FromResult(true);
        public Task ScheduleAsync(RotationId rotation, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task SignalAbortAsync(RotationId rotation, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static async Task<ServiceProvider> ProviderAsync(Dictionary<string, string?> settings)
    {
        var tables = await TestTables.CreateAsync();
        var time = new FakeTimeProvider();
        var services = new ServiceCollection().AddLogging()
            .AddSingleton(tables)
            .AddSingleton<TimeProvider>(time)
            .AddSingleton(new ProviderKeyRegistry(tables, Options.Create(new ProviderKeyOptions()), time))
            .AddSingleton<ISecretStore>(new KeyVaultSecretStore(new SecretClient(new Uri("https://unused.vault.example/"), new DevelopmentVaultCredential()), new SecretRedactor()))
            .AddSingleton<IRotationStepRunner>(new ScriptedStepRunner(tables, time, steps: 1, wait: TimeSpan.Zero))
            .AddSingleton<IRotationStarter, RecordingRotationStarter>()
            .AddSingleton<IAlertSink, RecordingAlertSink>()
            .AddSingleton<IRotationDriver, OtherDriver>();
        services.AddRotationServer(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    [Fact]
    public async Task AddRotationServer_makes_the_leasing_driver_the_hosts_driver_and_runs_it_and_the_schedule()
    {
        await using var provider = await ProviderAsync(new() { ["Rotation:PollInterval"] = "00:00:02", ["Rotation:Schedule"] = "30 4 * * *" });

        var driver = provider.GetRequiredService<RotationDriverService>();
        Assert.Same(driver, provider.GetRequiredService<IRotationDriver>());
        Assert.Single(provider.GetServices<IRotationDriver>());
        var hosted = provider.GetServices<IHostedService>().ToList();
        Assert.Contains(driver, hosted);
        Assert.Single(hosted.OfType<RotationScheduleService>());
        Assert.Equal(TimeSpan.FromSeconds(2), provider.GetRequiredService<IOptions<RotationDriverOptions>>().Value.PollInterval);
        Assert.Equal("30 4 * * *", provider.GetRequiredService<IOptions<RotationScheduleOptions>>().Value.Schedule);
        Assert.NotNull(provider.GetRequiredService<RotationSchedule>());
    }

    [Theory]
    [InlineData("Rotation:Schedule", "every day at three")]
    [InlineData("Rotation:PollInterval", "00:00:00")]
    [InlineData("Rotation:LeaseLength", "-00:01:00")]
    public async Task A_bad_setting_is_refused_by_name(string setting, string value)
    {
        await using var provider = await ProviderAsync(new() { [setting] = value });

        var refused = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<RotationDriverOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<RotationScheduleOptions>>().Value;
        });
        Assert.Contains(setting, refused.Message);
    }
}
