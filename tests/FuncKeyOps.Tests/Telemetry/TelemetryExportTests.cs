using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using FuncKeyOps.Secrets;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace FuncKeyOps.Tests.Telemetry;

/// <summary>Export is on only when its setting is, and Application Insights gets the app's own credential under Entra ID auth.</summary>
public class TelemetryExportTests
{
    private const string ConnectionString = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:1/";

    [Fact]
    public void The_Server_host_exports_over_OTLP_only_with_an_endpoint()
    {
        using var off = Build(null, services => services.AddFuncKeyOpsOtlpExport(Config(new())));
        Assert.Null(off.GetService<TracerProvider>());

        using var on = Build(null, services => services.AddFuncKeyOpsOtlpExport(Config(new() { [TelemetryRegistration.OtlpEndpoint] = "http://127.0.0.1:4317" })));
        Assert.NotNull(on.GetService<TracerProvider>());
    }

    [Fact]
    public void The_Functions_app_exports_to_Application_Insights_only_with_a_connection_string_and_applies_the_worker_defaults_then()
    {
        var defaultsApplied = 0;
        using var off = Build(null, services => services.AddFuncKeyOpsAzureMonitorExport(Config(new()), _ => defaultsApplied++));
        Assert.Null(off.GetService<TracerProvider>());
        Assert.Equal(0, defaultsApplied);

        using var on = Build(null, services => services.AddFuncKeyOpsAzureMonitorExport(
            Config(new() { [TelemetryRegistration.AppInsightsConnectionString] = ConnectionString }), _ => defaultsApplied++));
        Assert.NotNull(on.GetService<TracerProvider>());
        Assert.Equal(1, defaultsApplied);
        Assert.Null(on.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName).Credential);
    }

    [Fact]
    public void Entra_ID_auth_sends_with_the_apps_own_credential()
    {
        var credential = new DevelopmentVaultCredential();
        using var services = Build(credential, s => s.AddFuncKeyOpsAzureMonitorExport(Config(new()
        {
            [TelemetryRegistration.AppInsightsConnectionString] = ConnectionString,
            [TelemetryRegistration.AppInsightsAuthentication] = "ClientId=11111111-1111-1111-1111-111111111111;Authorization=AAD",
        }), _ => { }));

        Assert.Same(credential, services.GetRequiredService<IOptionsMonitor<AzureMonitorExporterOptions>>().Get(Options.DefaultName).Credential);
    }

    private static IConfiguration Config(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static ServiceProvider Build(TokenCredential? credential, Action<IServiceCollection> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TokenCredential>(credential ?? new DevelopmentVaultCredential());
        configure(services);
        return services.BuildServiceProvider();
    }
}
