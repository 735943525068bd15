using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Relay;

public static class RelayRegistration
{
    public static IServiceCollection AddRelay(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RelayOptions>().Bind(configuration.GetSection(RelayOptions.Section))
            // A timer takes at most about 49 days; a day is already far past any stream a provider keeps open.
            .Validate(o => o.StreamIdleTimeout > TimeSpan.Zero && o.StreamIdleTimeout <= TimeSpan.FromDays(1), "Relay:StreamIdleTimeout must be positive and at most 1 day.")
            .ValidateOnStart();
        // One pooled upstream handler for the process, like IHttpClientFactory would share, without its rotation churn.
        services.TryAddSingleton<UpstreamClient>();
        services.TryAddSingleton<RelayHandler>();
        return services;
    }
}
