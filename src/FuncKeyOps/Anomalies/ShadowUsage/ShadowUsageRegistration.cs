using FuncKeyOps.Rotation.Connectors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Anomalies.ShadowUsage;

public static class ShadowUsageRegistration
{
    /// <summary>
    /// The shadow-usage check (<see cref="ShadowUsageCheck"/>) with the OpenAI and Anthropic usage reports, the relay's
    /// side from the audit rows, and its options (section <c>Anomalies</c>). Needs the provider key registry, the secret
    /// store, <see cref="Audit.UsageQuery"/> and a <see cref="Storage.TableStore"/>, as AddFuncKeyOps registers them.
    /// </summary>
    public static IServiceCollection AddShadowUsage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ShadowUsageOptions>()
            .Bind(configuration.GetSection(ShadowUsageOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.HasValidTimes, "Anomalies:UsageSettle must be positive, Anomalies:UsageRejudge longer than it, and Anomalies:UsageMaxCatchUp at least an hour.")
            .ValidateOnStart();

        // The usage reports are admin API reads on the connectors' admin hosts: the same resilient client settings.
        ConnectorsRegistration.AddAdminClient(services, OpenAIUsageReport.HttpClientName);
        ConnectorsRegistration.AddAdminClient(services, AnthropicUsageReport.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderUsageReport, OpenAIUsageReport>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderUsageReport, AnthropicUsageReport>());
        services.TryAddSingleton<IRelayHourlyUsage, AuditRelayHourlyUsage>();
        services.TryAddSingleton<ShadowCursors>();
        services.TryAddSingleton<ShadowUsageCheck>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Sweep.ISweepCheck, ShadowUsageSweepCheck>());
        return services;
    }
}
