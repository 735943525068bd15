using FuncKeyOps.Admin;
using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Admin;

/// <summary>
/// A minimal web app on a loopback port composed like the hosts (AddFuncKeyOps + AddRelayKeys, redacted logging)
/// with the admin group at <c>/api/admin</c>, its own vault holding a fresh admin key, and its own table prefix.
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

    /// <param name="mapAdmin">Routes on the admin group; every admin route of the table when null.</param>
    /// <param name="seedAdminKey">False to leave the vault without an admin key.</param>
    public static async Task<AdminApp> StartAsync(Action<RouteGroupBuilder>? mapAdmin = null, bool seedAdminKey = true)
    {
        var vault = await TestVault.StartAsync();
        var adminKey = "fake-admin-" + Guid.NewGuid().ToString("N");
        if (seedAdminKey)
            vault.SetSecretDirect("fko-admin-key", adminKey);
        var logs = new CapturingLoggerProvider();

        // Development, as the hosts run against the local vault: its pinned certificate is refused elsewhere.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var settings = TestSettings.For(vault, await SharedAzurite.GetConnectionStringAsync(), TestNames.NewTablePrefix());
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Audit:SpillLimitBytes"] = "0"; // no spill folder shared with other tests (or a dev server)
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddFuncKeyOps(builder.Configuration);
        builder.Services.AddRelayKeys(builder.Configuration);
        builder.Services.AddSecretRedaction();

        var app = builder.Build();
        var admin = app.MapGroup("/api").MapGroup("/admin");
        if (mapAdmin is null)
            admin.MapAdminRoutes();
        else
            mapAdmin(admin);
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
