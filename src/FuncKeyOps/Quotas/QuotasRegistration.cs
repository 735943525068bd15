using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Quotas;

public static class QuotasRegistration
{
    /// <summary>
    /// The quota gate (one per process: its counters are the instance's share of the global usage) and its flusher.
    /// Needs the <see cref="Storage.TableStore"/> that AddFuncKeyOps registers.
    /// </summary>
    public static IServiceCollection AddQuotas(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<QuotaOptions>()
            .Bind(configuration.GetSection(QuotaOptions.Section))
            .Validate(o => o.FlushInterval > TimeSpan.Zero, "Quotas:FlushInterval must be positive.")
            .Validate(o => o.IdleKeyTimeout > TimeSpan.Zero, "Quotas:IdleKeyTimeout must be positive.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<QuotaGate>();
        services.TryAddSingleton<IQuotaGate>(sp => sp.GetRequiredService<QuotaGate>());
        services.AddHostedService<UsageFlusher>();
        return services;
    }
}
