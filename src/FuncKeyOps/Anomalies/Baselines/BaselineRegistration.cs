using FuncKeyOps.Anomalies.Rollups;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Anomalies.Baselines;

public static class BaselineRegistration
{
    /// <summary>
    /// The rollup store, the baselines (store, builder, lookup) and <see cref="BaselineOptions"/> for the sweep.
    /// Needs a <see cref="Storage.TableStore"/> (AddFuncKeyOps registers it).
    /// </summary>
    public static IServiceCollection AddRollupsAndBaselines(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BaselineOptions>()
            .Bind(configuration.GetSection(BaselineOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<RollupStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Sweep.IClosedWindowSink, RollupWindowSink>());
        services.TryAddSingleton<BaselineStore>();
        services.TryAddSingleton<BaselineBuilder>();
        services.TryAddSingleton<BaselineLookup>();
        return services;
    }
}
