using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Rotation.Connectors.Gemini;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>One <see cref="IKeyConnector"/> per connector name; the step runner picks the one a provider key names.</summary>
public static class ConnectorsRegistration
{
    // Short in-call retries: a failed create or revoke is retried as a whole step by the rotation driver.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    public static IServiceCollection AddKeyConnectors(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient(GeminiKeyConnector.HttpClientName).AddStandardResilienceHandler(options =>
        {
            options.Retry.MaxRetryAttempts = 2;
            options.Retry.Delay = RetryDelay;
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, GeminiKeyConnector>());

        // ARM calls go through an Azure.Core pipeline, whose retry policy is the only retry layer on this client.
        services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, AzureOpenAIKeyConnector>());
        return services;
    }
}
