using FuncKeyOps.Rotation.Connectors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation;

/// <summary>
/// The rotation engine. Each host registers its own <see cref="IRotationDriver"/> after this (AddSingleton, so it
/// replaces the <see cref="UndrivenRotationDriver"/> placeholder); alerts go to every registered <see cref="Alerts.IAlertSink"/>.
/// </summary>
public static class RotationRegistration
{
    public static IServiceCollection AddRotation(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RotationOptions>()
            .Bind(configuration.GetSection(RotationOptions.Section))
            .Validate(o => o.RecheckInterval > TimeSpan.Zero, "Rotation:RecheckInterval must be positive.")
            .Validate(o => o.StagedValueTimeout > TimeSpan.Zero, "Rotation:StagedValueTimeout must be positive.")
            .Validate(o => o.AnalysisMinRequests >= 1, "Rotation:AnalysisMinRequests must be at least 1.")
            .ValidateOnStart();
        services.AddKeyConnectors();
        services.TryAddSingleton<RotationStore>();
        services.TryAddSingleton<RotationErrorRate>();
        services.TryAddSingleton<RotationStepRunner>();
        services.TryAddSingleton<IRotationStepRunner>(sp => sp.GetRequiredService<RotationStepRunner>());
        services.TryAddSingleton<RotationService>();
        services.TryAddSingleton<IRotationStarter>(sp => sp.GetRequiredService<RotationService>());
        services.TryAddSingleton<IRotationDriver, UndrivenRotationDriver>();
        return services;
    }
}
