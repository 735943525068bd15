using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// OpenTelemetry export, one call per host kind. Nothing is collected unless export is configured: with no listener
/// the library's spans are never created and its instruments stay disabled (see <see cref="RelayTelemetry"/>).
/// </summary>
public static class TelemetryRegistration
{
    public const string AppInsightsConnectionString = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AppInsightsAuthentication = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Subscribes a telemetry pipeline to the library's spans and meters (also what tests add an in-memory exporter to).</summary>
    public static IOpenTelemetryBuilder WithFuncKeyOps(this IOpenTelemetryBuilder builder)
    {
        builder.ConfigureResource(resource => resource.AddService(FuncKeyOpsTelemetry.ServiceName));
        // Always on, not the default parent-based: ASP.NET Core starts an activity per request even when no
        // instrumentation records it, and a parent-based sampler drops every child of an unrecorded parent, so no
        // relay span would be kept. Azure Monitor's exporter sets its own sampler after this one (the last one set wins).
        builder.WithTracing(tracing => tracing.AddSource(FuncKeyOpsTelemetry.ServiceName).SetSampler(new AlwaysOnSampler()));
        builder.WithMetrics(metrics => metrics.AddMeter([.. FuncKeyOpsTelemetry.MeterNames]));
        return builder;
    }

    /// <summary>
    /// The Server host: spans, metrics and logs over OTLP to <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, configured by the
    /// standard <c>OTEL_*</c> settings (protocol, headers, service name); off while that endpoint is not set.
    /// </summary>
    public static IServiceCollection AddFuncKeyOpsOtlpExport(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]))
            return services;
        services.AddOpenTelemetry().WithFuncKeyOps().UseOtlpExporter();
        return services;
    }

    /// <summary>
    /// The Functions app: spans, metrics and logs to Application Insights when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
    /// is set, authenticated with the app's own credential (managed identity) when
    /// <c>APPLICATIONINSIGHTS_AUTHENTICATION_STRING</c> asks for Entra ID (<c>Authorization=AAD</c>), so the
    /// resource's local (instrumentation-key) auth can stay disabled. Off without a connection string.
    /// </summary>
    /// <param name="workerDefaults">
    /// The worker's own defaults (<c>UseFunctionsWorkerDefaults</c>, in the worker's package, which the library does not
    /// take on): applied only with export on, since they tell the host to leave the worker's telemetry to the worker.
    /// </param>
    public static IServiceCollection AddFuncKeyOpsAzureMonitorExport(this IServiceCollection services, IConfiguration configuration,
        Action<IOpenTelemetryBuilder> workerDefaults)
    {
        if (string.IsNullOrWhiteSpace(configuration[AppInsightsConnectionString]))
            return services;
        var builder = services.AddOpenTelemetry().WithFuncKeyOps();
        workerDefaults(builder);
        builder.UseAzureMonitorExporter();
        if (UsesEntraId(configuration[AppInsightsAuthentication]))
            services.AddOptions<AzureMonitorExporterOptions>().Configure<TokenCredential>((options, credential) => options.Credential = credential);
        return services;
    }

    internal static bool UsesEntraId(string? authentication) =>
        authentication?.Split(';').Any(part => part.Trim().Equals("Authorization=AAD", StringComparison.OrdinalIgnoreCase)) == true;
}
