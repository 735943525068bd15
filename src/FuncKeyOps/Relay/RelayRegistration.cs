using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Relay;

public static class RelayRegistration
{
    public static IServiceCollection AddRelay(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>());
        // One pooled upstream handler for the process, like IHttpClientFactory would share, without its rotation churn.
        services.TryAddSingleton<UpstreamClient>();
        // One breaker per provider key for the process: every call of this instance sees a member out at once.
        services.TryAddSingleton<ProviderKeyCircuits>();
        services.TryAddSingleton<Telemetry.RelayTelemetry>();
        services.TryAddSingleton<RelayHandler>();
        return services;
    }
}
