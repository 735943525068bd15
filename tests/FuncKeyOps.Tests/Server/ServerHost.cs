using FuncKeyOps.Server;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Server;

/// <summary>The real Server host on a loopback port, with its own vault, table prefix and captured logs.</summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly string? _ownSpillFolder;

    private ServerHost(WebApplication app, TestVault vault, CapturingLoggerProvider logs, string? ownSpillFolder)
    {
        _ownSpillFolder = ownSpillFolder;
        App = app;
        Vault = vault;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public WebApplication App { get; }
    public TestVault Vault { get; }
    public CapturingLoggerProvider Logs { get; }
    public HttpClient Client { get; }

    /// <summary>Completes once no request is inside the host's pipeline (every handler has finished, audit enqueued).</summary>
    public Task WaitIdleAsync() => App.Services.GetRequiredService<InFlightRequests>().WaitIdleAsync();

    /// <param name="configure">Also runs on the builder: what configuration cannot set (e.g. Kestrel's minimum body data rate).</param>
    /// <param name="environment">The host environment; Development, as `build.sh dev` runs it, since the local vault is trusted only there.</param>
    public static async Task<ServerHost> StartAsync(string? storageConnectionString = null, IDictionary<string, string?>? settings = null, TestVault? vault = null,
        TimeProvider? time = null, Action<WebApplicationBuilder>? configure = null, string environment = "Development")
    {
        var ownVault = vault is null;
        vault ??= await TestVault.StartAsync();
        var logs = new CapturingLoggerProvider();
        var config = TestSettings.For(vault, storageConnectionString ?? await SharedAzurite.GetConnectionStringAsync(), TestNames.NewTablePrefix());
        config["Logging:LogLevel:Default"] = "Debug";
        // The anomaly sweep's schedule once a year unless a test asks for it: a host whose fake clock a test moves on
        // would otherwise sweep (and suspend keys, start rotations) behind the test's back every 5 minutes of it.
        config["Anomalies:Schedule"] = "0 0 0 1 1 *";
        // Retention likewise: a clock moved on by months would drop the audit tables a test seeded.
        config["Retention:Schedule"] = "0 0 0 1 1 *";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            config[key] = value;
        // A spill folder of its own, so hosts running in parallel never replay each other's rows.
        string? ownSpillFolder = null;
        if (!config.ContainsKey("Audit:SpillPath"))
            config["Audit:SpillPath"] = ownSpillFolder = Directory.CreateTempSubdirectory("fko-spill-").FullName;

        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", "--environment", environment], builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
            if (time is not null)
                builder.Services.AddSingleton(time);
            builder.Services.AddSingleton<InFlightRequests>();
            builder.Services.AddSingleton<IStartupFilter>(sp => sp.GetRequiredService<InFlightRequests>());
            configure?.Invoke(builder);
        });
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A host refused at start-up (a test of that) leaves nothing running behind it.
            await app.DisposeAsync();
            if (ownVault)
                await vault.DisposeAsync();
            if (ownSpillFolder is not null)
                Directory.Delete(ownSpillFolder, recursive: true);
            throw;
        }
        return new ServerHost(app, vault, logs, ownSpillFolder);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Vault.DisposeAsync();
        if (_ownSpillFolder is not null)
            Directory.Delete(_ownSpillFolder, recursive: true);
    }
}
