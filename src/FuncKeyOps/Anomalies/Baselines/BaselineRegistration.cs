using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Anomalies.Rollups;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Anomalies.Baselines;

public static class BaselineRegistration
{
    /// <summary>
    /// What the sweep writes after each closed window: the hourly rollups, then (once an hour is complete) the baselines
    /// of the next hour. Registered in that order, which the baseline sink relies on (it reads the hour the rollup sink
    /// just compacted). The baselines' setting, <c>Anomalies:WarmUp</c>, is <see cref="AnomalyOptions"/>'
    /// (<c>AddAnomalySweeps</c>). Needs a <see cref="Storage.TableStore"/> (AddFuncKeyOps registers it).
    /// </summary>
    public static IServiceCollection AddRollupsAndBaselines(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RollupStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Sweep.IClosedWindowSink, RollupWindowSink>());
        services.TryAddSingleton<BaselineStore>();
        services.TryAddSingleton<BaselineBuilder>();
        services.TryAddSingleton<FindingStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Sweep.IClosedWindowSink, BaselineUpdateSink>());
        return services;
    }
}
