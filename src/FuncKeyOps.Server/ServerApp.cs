using FuncKeyOps.Anomalies;
using FuncKeyOps.Tenants;
using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using FuncKeyOps.Retention;
using FuncKeyOps.Rotation.Server;
using FuncKeyOps.Telemetry;

namespace FuncKeyOps.Server;

/// <summary>Composition root of the self-hosted (container) deployment. Tests build the same app in-process.</summary>
public static class ServerApp
{
    /// <param name="configure">Runs before the logging providers are put behind redaction, so anything added there is redacted too.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Content root is the app's own folder, so appsettings.json is found whatever the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddFuncKeyOps(builder.Configuration);
        // This host drives rotations itself (leased rows, a cron-timed schedule); the Functions app uses Durable instead.
        builder.Services.AddRotationServer(builder.Configuration);
        // The anomaly sweep on Cronos at Anomalies:Schedule (the Functions app runs it from a timer trigger).
        builder.Services.AddAnomalySweepSchedule();
        // Daily retention on Cronos at Retention:Schedule, likewise.
        builder.Services.AddRetentionSchedule();
        // Its driver can schedule at once, so tenant PUTs that stopped are finished at start.
        builder.Services.AddTenantKeyRecovery();
        // Spans, metrics and logs over OTLP once OTEL_EXPORTER_OTLP_ENDPOINT is set; before redaction, like any logger.
        builder.Services.AddFuncKeyOpsOtlpExport(builder.Configuration);
        configure?.Invoke(builder);
        builder.Services.AddSecretRedaction();

        var app = builder.Build();
        app.MapFuncKeyOps();
        return app;
    }
}
