using FuncKeyOps.Anomalies.Budgets;
using FuncKeyOps.Anomalies.Detection;
using FuncKeyOps.Anomalies.Sweep;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Anomalies.KnownSources;

public static class NewSourceAndBudgetRegistration
{
    /// <summary>
    /// The <c>new_source</c> detector with its <see cref="KnownSourceStore"/> (the sweep's <see cref="IKnownSourceStore"/>,
    /// replacing the empty default in either order, and a closed-window sink that teaches it), and the <c>budget</c>
    /// check. Needs a <see cref="Storage.TableStore"/> and the relay keys' row cache (<c>AddRelayKeys</c>), as
    /// AddFuncKeyOps registers them.
    /// </summary>
    public static IServiceCollection AddNewSourceAndBudget(this IServiceCollection services)
    {
        services.TryAddSingleton<KnownSourceStore>();
        services.RemoveAll<IKnownSourceStore>();
        services.AddSingleton<IKnownSourceStore>(sp => sp.GetRequiredService<KnownSourceStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IClosedWindowSink, KnownSourceStore>(sp => sp.GetRequiredService<KnownSourceStore>()));
        services.TryAddSingleton<IRelayKeyAllowList, RelayKeyAllowList>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IWindowDetector, NewSourceDetector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ISweepCheck, BudgetCheck>());
        return services;
    }
}
