using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies.Findings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Anomalies.Actions;

public static class FindingActionsRegistration
{
    /// <summary>
    /// The findings store (the admin API's findings calls read it) and the <see cref="IFindingResponder"/> that stores,
    /// contains and alerts, with its options (<c>Anomalies:Actions:*</c>; <c>Anomalies:Mode</c> is the sweep's, <see cref="AnomalyOptions"/>). Replaces whatever
    /// responder was registered before (the sweep's log-only default). Needs the relay keys, the rotation engine, the
    /// admin trail's store and an <see cref="Alerts.IAlertSink"/> (AddFuncKeyOps registers them).
    /// </summary>
    public static IServiceCollection AddFindingActions(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddFuncKeyOpsAdmin(configuration); // the findings routes, and the trail the actions are recorded in
        // Enum settings are checked by the binder as the host starts: an unknown mode or severity stops it with the value named.
        services.AddOptions<FindingActionOptions>()
            .Bind(configuration.GetSection(FindingActionOptions.Section))
            .Validate(o => Detectors.All.All(d => Enum.IsDefined(o.Actions.For(d))), "Anomalies:Actions:* must each be never, low, medium or high.")
            .ValidateOnStart();
        services.TryAddSingleton<FindingStore>();
        services.TryAddSingleton<SweepTrail>();
        services.TryAddSingleton<RelayKeySuspension>();
        services.TryAddSingleton<EmergencyRotation>();
        services.TryAddSingleton<FindingResponder>();
        services.Replace(ServiceDescriptor.Singleton<IFindingResponder>(sp => sp.GetRequiredService<FindingResponder>()));
        return services;
    }
}
