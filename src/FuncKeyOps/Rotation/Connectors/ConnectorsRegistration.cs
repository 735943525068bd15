using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>One <see cref="IKeyConnector"/> per connector name; the step runner picks the one a provider key names.</summary>
public static class ConnectorsRegistration
{
    public static IServiceCollection AddKeyConnectors(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, ManualConnector>());
        return services;
    }
}
