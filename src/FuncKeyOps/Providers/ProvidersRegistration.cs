using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.Providers;

public static class ProvidersRegistration
{
    /// <summary>
    /// The four adapters (each as itself and as an <see cref="IProviderAdapter"/>) and the <see cref="ProviderCatalog"/>
    /// over every registered <see cref="IProviderAdapter"/>, all singletons: adapters are stateless.
    /// </summary>
    public static IServiceCollection AddProviders(this IServiceCollection services)
    {
        Add<OpenAIAdapter>(services);
        Add<AnthropicAdapter>(services);
        Add<GeminiAdapter>(services);
        Add<AzureOpenAIAdapter>(services);
        services.TryAddSingleton(sp => new ProviderCatalog(sp.GetServices<IProviderAdapter>()));
        return services;
    }

    private static void Add<TAdapter>(IServiceCollection services)
        where TAdapter : class, IProviderAdapter
    {
        services.TryAddSingleton<TAdapter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IProviderAdapter, TAdapter>(sp => sp.GetRequiredService<TAdapter>()));
    }
}
