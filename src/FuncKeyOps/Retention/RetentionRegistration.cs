using FuncKeyOps.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FuncKeyOps.Retention;

public static class RetentionRegistration
{
    /// <summary>
    /// <see cref="RetentionJob"/> and its settings, for a host that triggers it itself (the Functions app's timer). Needs a
    /// <see cref="Storage.TableStore"/> and the audit options (AddFuncKeyOps registers them).
    /// </summary>
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>()
            .Bind(configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => CronSchedule.TryParse(o.Schedule) is not null, "Retention:Schedule must be a cron expression in UTC: six fields with seconds (\"0 0 4 * * *\") or five (\"0 4 * * *\").")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<Admin.AdminEventStore>();
        services.TryAddSingleton<RetentionJob>();
        return services;
    }

    /// <summary>The Server host's schedule: <see cref="RetentionScheduleService"/> runs the job at <c>Retention:Schedule</c>.</summary>
    public static IServiceCollection AddRetentionSchedule(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RetentionScheduleService>());
        return services;
    }
}
