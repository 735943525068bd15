using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation.Schedule;

public static class RotationScheduleRegistration
{
    /// <summary>
    /// <see cref="RotationSchedule"/> alone, for a host that triggers it itself (the Functions app's timer). Needs the
    /// provider key registry, the secret store, an <see cref="IRotationStarter"/> and an <see cref="Alerts.IAlertSink"/>.
    /// </summary>
    public static IServiceCollection AddRotationSchedule(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RotationSchedule>();
        return services;
    }
}
