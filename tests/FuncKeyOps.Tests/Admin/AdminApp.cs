using FuncKeyOps.Admin;
using FuncKeyOps.Server;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Admin;

/// <summary>
/// The Server host's app (<c>ServerApp.Build</c>) on a loopback port with its own vault holding a fresh admin key,
/// its own table prefix and its log lines captured; tests may add probe routes to the admin group.
/// </summary>
internal sealed class AdminApp : IAsyncDisposable
{
    private AdminApp(WebApplication app, TestVault vault, CapturingLoggerProvider logs, string adminKey)
    {
        App = app;
        Vault = vault;
        Logs = logs;
        AdminKey = adminKey;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public WebApplication App { get; }
    public TestVault Vault { get; }
    public CapturingLoggerProvider Logs { get; }
    public string AdminKey { get; }
    public HttpClient Client { get; }

    /// <param name="mapAdmin">Test routes added to the admin group beside the table's (probes of the gate).</param>
    /// <param name="seedAdminKey">False to leave the vault without an admin key.</param>
    /// <param name="extraSettings">Settings over the test defaults.</param>
    public static async Task<AdminApp> StartAsync(Action<RouteGroupBuilder>? mapAdmin = null, bool seedAdminKey = true,
        IDictionary<string, string?>? extraSettings = null)
    {
        var vault = await TestVault.StartAsync();
        var adminKey = "fake-admin-" + Guid.NewGuid().ToString("N");
        if (seedAdminKey)
            vault.SetSecretDirect("fko-admin-key", adminKey);
        var logs = new CapturingLoggerProvider();

        var settings = TestSettings.For(vault, await SharedAzurite.GetConnectionStringAsync(), TestNames.NewTablePrefix());
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Audit:SpillLimitBytes"] = "0"; // no spill folder shared with other tests (or a dev server)
        foreach (var (name, value) in extraSettings ?? new Dictionary<string, string?>())
            settings[name] = value;
        // The Server host's own composition, in Development as the hosts run against the local vault.
        var app = ServerApp.Build(["--urls", "http://127.0.0.1:0", "--environment", Environments.Development], builder =>
        {
            builder.Configuration.AddInMemoryCollection(settings);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
        });
        mapAdmin?.Invoke(app.MapGroup("/api").MapGroup("/admin"));
        await app.StartAsync();
        return new AdminApp(app, vault, logs, adminKey);
    }

    public HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null, string? adminKey = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add(AdminAuth.HeaderName, adminKey ?? AdminKey);
        return request;
    }

    public T Get<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        await Vault.DisposeAsync();
    }
}
