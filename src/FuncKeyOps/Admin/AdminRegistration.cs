using FuncKeyOps.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FuncKeyOps.Admin;

public static class AdminRegistration
{
    /// <summary>Services behind <see cref="AdminEndpoint"/>. Idempotent, so every capability with admin routes may call it.</summary>
    public static IServiceCollection AddFuncKeyOpsAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(AdminAuth)))
            return services;
        services.AddOptions<AdminOptions>()
            .Bind(configuration.GetSection(AdminOptions.Section))
            .Validate(o => o.StorageTimeout > TimeSpan.Zero, "Admin:StorageTimeout must be positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.KeySecretName), "Admin:KeySecretName is required.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecretRedactor>();
        services.TryAddSingleton<AdminAuth>();
        services.TryAddSingleton<AdminEventStore>();
        services.TryAddSingleton<AdminTrail>();
        services.TryAddSingleton<FailedAuthTally>();
        // Stopped with the host, so counts still unwritten are stored on a graceful shutdown.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, FailedAuthTally>(sp => sp.GetRequiredService<FailedAuthTally>()));
        return services;
    }
}
