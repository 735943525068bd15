using FuncKeyOps.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Audit;

public static class AuditRegistration
{
    /// <summary>
    /// The audit writer (one instance: the <see cref="IAuditSink"/> and the hosted service that drains it),
    /// the queries (rows, usage) and their options. Needs a <see cref="Storage.TableStore"/> (AddFuncKeyOps registers it).
    /// </summary>
    public static IServiceCollection AddAudit(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecretRedactor>();
        services.AddMetrics();
        services.AddOptions<AuditOptions>()
            .Bind(configuration.GetSection(AuditOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.HasValidDelays, "Audit:InitialRetryDelay must be positive and not above Audit:MaxRetryDelay; Audit:Linger must be between 0 and 1 minute.")
            .Validate(o => o.SpillLimitBytes == 0 || !string.IsNullOrWhiteSpace(o.SpillPath), "Audit:SpillPath must name a local folder while Audit:SpillLimitBytes is above 0.")
            .ValidateOnStart();
        services.TryAddSingleton<AuditWriter>();
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<AuditWriter>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditWriter>());
        services.TryAddSingleton<AuditQuery>();
        services.TryAddSingleton<UsageQuery>();
        return services;
    }
}
