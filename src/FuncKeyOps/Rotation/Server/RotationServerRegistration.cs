using FuncKeyOps.Rotation.Schedule;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation.Server;

public static class RotationServerRegistration
{
    /// <summary>
    /// What the Server host adds to run rotations itself: the leasing driver (also its <see cref="IRotationDriver"/>,
    /// replacing any other) and the cron-timed daily schedule. Needs an <see cref="IRotationStepRunner"/>, an
    /// <see cref="IRotationStarter"/> and an <see cref="Alerts.IAlertSink"/> registered by the library.
    /// </summary>
    public static IServiceCollection AddRotationServer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RotationDriverOptions>()
            .Bind(configuration.GetSection(RotationDriverOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero, "Rotation:PollInterval must be positive.")
            .Validate(o => o.LeaseLength > TimeSpan.Zero, "Rotation:LeaseLength must be positive.")
            .Validate(o => o.StepRetryDelay > TimeSpan.Zero, "Rotation:StepRetryDelay must be positive.")
            .ValidateOnStart();
        services.AddOptions<RotationScheduleOptions>()
            .Bind(configuration.GetSection(RotationScheduleOptions.Section))
            .Validate(o => o.TryParse() is not null, "Rotation:Schedule must be a cron expression in UTC: five fields (\"0 3 * * *\") or six with seconds (\"0 0 3 * * *\").")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RotationLeases>();
        services.TryAddSingleton<RotationDriverService>();
        services.Replace(ServiceDescriptor.Singleton<IRotationDriver>(sp => sp.GetRequiredService<RotationDriverService>()));
        services.AddHostedService(sp => sp.GetRequiredService<RotationDriverService>());

        services.AddRotationSchedule();
        services.AddHostedService<RotationScheduleService>();
        return services;
    }
}
