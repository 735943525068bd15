using FuncKeyOps.Alerts;
using FuncKeyOps.Hosting;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Alerts;

/// <summary>
/// One app instance's alert sink, composed as the hosts compose it (AddFuncKeyOps), on a given vault and table
/// prefix, logging to a capture. Two on one prefix are two instances sharing the <c>alerts</c> table.
/// </summary>
internal sealed class AlertsInstance : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private AlertsInstance(ServiceProvider services, CapturingLoggerProvider logs)
    {
        _services = services;
        Logs = logs;
    }

    public CapturingLoggerProvider Logs { get; }
    /// <summary>The delivery itself (the host's <see cref="IAlertSink"/> queues for it in the background), so a test sees each publish delivered when it returns.</summary>
    public IAlertSink Sink => _services.GetRequiredService<AlertSink>();
    internal AlertLedger Ledger => _services.GetRequiredService<AlertLedger>();
    public TableStore Tables => _services.GetRequiredService<TableStore>();

    public static async Task<AlertsInstance> StartAsync(TestVault vault, string tablePrefix, string webhookSecret, TimeProvider? time = null,
        string? storageConnectionString = null)
    {
        var config = TestSettings.For(vault, storageConnectionString ?? await SharedAzurite.GetConnectionStringAsync(), tablePrefix);
        config["Alerts:WebhookSecret"] = webhookSecret;
        // Retries at once: the tests count attempts, not wait for backoff.
        config["Alerts:Resilience:Retry:Delay"] = "00:00:00";
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        // As a host in Development would register it: the local vault's pinned certificate is refused without it.
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { EnvironmentName = Environments.Development });
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddFuncKeyOps(new ConfigurationBuilder().AddInMemoryCollection(config).Build());
        return new AlertsInstance(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), logs);
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
