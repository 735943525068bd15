using FuncKeyOps.Anomalies.Baselines;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.Sweep;
using FuncKeyOps.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Anomalies;

public static class AnomaliesRegistration
{
    /// <summary>
    /// The anomaly sweep as a library call (<see cref="SweepRunner"/>), its settings and its detectors, for a host that
    /// triggers it itself (the Functions app's timer, <c>POST sweeps/run</c>). Findings go to the registered
    /// <see cref="IFindingResponder"/>, a log-only one unless another is registered (AddSingleton replaces it). The
    /// detectors read the baselines the <c>baselines</c> table holds (<see cref="IBaselineLookup"/>); keeping them up to
    /// date is <c>AddRollupsAndBaselines</c>' sink. Known-source stores, per-run checks (<see cref="ISweepCheck"/>) and closed-window sinks
    /// (<see cref="IClosedWindowSink"/>) plug in the same way. Needs a <see cref="Storage.TableStore"/>.
    /// </summary>
    public static IServiceCollection AddAnomalySweeps(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnomalyOptions>()
            .Bind(configuration.GetSection(AnomalyOptions.Section))
            .Validate(o => o.TryParseSchedule() is not null, "Anomalies:Schedule must be a cron expression in UTC: six fields with seconds (\"0 */5 * * * *\") or five (\"*/5 * * * *\").")
            .Validate(o => o.SettleDelay >= TimeSpan.Zero && o.SettleDelay <= TimeSpan.FromHours(1), "Anomalies:SettleDelay must be from 0 to 1 hour.")
            .Validate(o => o.LeaseDuration > TimeSpan.Zero, "Anomalies:LeaseDuration must be positive.")
            .Validate(o => o.MaxWindowsPerRun >= 1, "Anomalies:MaxWindowsPerRun must be at least 1.")
            .Validate(o => Enum.IsDefined(o.Mode), "Anomalies:Mode must be act or observe.")
            .Validate(o => o.WarmUp >= TimeSpan.FromHours(1) && o.WarmUp <= TimeSpan.FromDays(28), "Anomalies:WarmUp must be between 1 hour and 28 days.")
            .ValidateOnStart();
        // A validator of its own for the thresholds: its message names the one setting at fault, overrides included.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnomalyOptions>, AnomalyThresholdsValidator>());

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SweepTelemetry>();
        services.TryAddSingleton<SweepCheckpointStore>();
        services.TryAddSingleton<AuditPass>();
        services.TryAddSingleton<IFindingResponder, LoggingFindingResponder>();
        services.TryAddSingleton<BaselineStore>();
        services.TryAddSingleton<IBaselineLookup, BaselineLookup>();
        services.TryAddSingleton<IKnownSourceStore, NoKnownSources>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, AuthFailuresDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, ErrorRateDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, ProviderKeyRejectedDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, TokensDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, VolumeDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, QuietHoursDetector>());
        services.TryAddSingleton<SweepRunner>();
        return services;
    }

    /// <summary>The Server host's schedule: <see cref="SweepScheduleService"/> runs the sweep at <c>Anomalies:Schedule</c>.</summary>
    public static IServiceCollection AddAnomalySweepSchedule(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SweepScheduleService>());
        return services;
    }
}

/// <summary>Every threshold in range and every time zone known, globally and in each tenant's and relay key's overrides.</summary>
internal sealed class AnomalyThresholdsValidator : IValidateOptions<AnomalyOptions>
{
    public ValidateOptionsResult Validate(string? name, AnomalyOptions options) =>
        options.ThresholdError() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
