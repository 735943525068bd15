using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Relay;

public static class RelayRegistration
{
    public static IServiceCollection AddRelay(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.Section));
        // One pooled upstream handler for the process, like IHttpClientFactory would share, without its rotation churn.
        services.TryAddSingleton<UpstreamClient>();
        services.TryAddSingleton<RelayHandler>();
        return services;
    }
}
