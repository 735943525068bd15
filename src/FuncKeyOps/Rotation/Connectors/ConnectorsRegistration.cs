using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Rotation.Connectors.Gemini;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>One <see cref="IKeyConnector"/> per connector name; the step runner picks the one a provider key names.</summary>
public static class ConnectorsRegistration
{
    public static IServiceCollection AddKeyConnectors(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, ManualConnector>());
        AddAdminClient(services, OpenAIKeyConnector.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, OpenAIKeyConnector>());
        AddAdminClient(services, AnthropicKeyConnector.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, AnthropicKeyConnector>());
        AddAdminClient(services, GeminiKeyConnector.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, GeminiKeyConnector>());
        // ARM calls go through an Azure.Core pipeline (the host's TokenCredential), whose retry policy is the only
        // retry layer on this client.
        services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IKeyConnector, AzureOpenAIKeyConnector>());
        return services;
    }

    /// <summary>
    /// A provider admin API client with the standard resilience handler, tuned for rare calls inside a re-runnable step:
    /// two short retries of 429/5xx/timeouts (the step runner retries a transient failure later anyway), and no retry of
    /// POST, because a create whose answer was lost may still have made a key; the re-run lists first and finds it.
    /// Its options are named <c>{client name}-standard</c> (how tests shorten the delays). Shadow usage reads the
    /// providers' usage reports through clients made the same way.
    /// </summary>
    internal static void AddAdminClient(IServiceCollection services, string name) =>
        services.AddHttpClient(name).AddStandardResilienceHandler(options =>
        {
            options.Retry.MaxRetryAttempts = 2;
            options.Retry.Delay = TimeSpan.FromSeconds(1);
            options.Retry.DisableForUnsafeHttpMethods();
            options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(10);
            options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(30);
        });
}
