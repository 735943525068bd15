using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Logging;

public static class RedactionLoggingExtensions
{
    /// <summary>
    /// Puts every logging provider registered so far behind <see cref="SecretRedactor"/>.
    /// Call it last in a composition root, after all providers are added.
    /// </summary>
    public static IServiceCollection AddSecretRedaction(this IServiceCollection services)
    {
        services.TryAddSingleton<SecretRedactor>();
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(ILoggerProvider) || descriptor.IsKeyedService)
                continue;
            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp =>
                new RedactingLoggerProvider(CreateInner(sp, descriptor), sp.GetRequiredService<SecretRedactor>()));
        }
        return services;
    }

    private static ILoggerProvider CreateInner(IServiceProvider sp, ServiceDescriptor descriptor) =>
        (ILoggerProvider)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(sp)
            ?? ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!));
}
