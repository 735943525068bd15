using FuncKeyOps.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FuncKeyOps.ProviderKeys;

public static class ProviderKeysRegistration
{
    public static IServiceCollection AddProviderKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProviderKeyOptions>().Bind(configuration.GetSection(ProviderKeyOptions.Section))
            .Validate(o => o.CacheTtl > TimeSpan.Zero && o.MaxStale >= TimeSpan.Zero,
                "ProviderKeys:CacheTtl must be positive and ProviderKeys:MaxStale not negative.");
        services.TryAddSingleton<ProviderKeyRegistry>();
        services.TryAddSingleton<ProviderKeyResolver>();
        services.TryAddSingleton<ProviderKeyValidator>();
        services.TryAddSingleton<ProviderKeyActivation>();
        services.TryAddSingleton<ProviderKeyStaging>();
        services.TryAddSingleton<ProviderKeyRemoval>();
        return services;
    }

    /// <summary>The provider-key admin routes, each behind <see cref="AdminEndpoint"/>.</summary>
    public static RouteGroupBuilder MapProviderKeyAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("provider-keys", (HttpContext c) => AdminEndpoint.RunAsync(c, ProviderKeyAdminHandlers.ListAsync));
        admin.MapPut("provider-keys/{name}", (HttpContext c, string name) => AdminEndpoint.RunAsync(c, h => ProviderKeyAdminHandlers.RegisterAsync(h, name)));
        admin.MapGet("provider-keys/{name}", (HttpContext c, string name) => AdminEndpoint.RunAsync(c, h => ProviderKeyAdminHandlers.GetAsync(h, name)));
        admin.MapDelete("provider-keys/{name}", (HttpContext c, string name) => AdminEndpoint.RunAsync(c, h => ProviderKeyAdminHandlers.DeleteAsync(h, name)));
        admin.MapPost("provider-keys/{name}/versions", (HttpContext c, string name) => AdminEndpoint.RunAsync(c, h => ProviderKeyAdminHandlers.StageVersionAsync(h, name)));
        admin.MapPost("provider-keys/{name}/versions/{version}/activate", (HttpContext c, string name, string version) =>
            AdminEndpoint.RunAsync(c, h => ProviderKeyAdminHandlers.ActivateVersionAsync(h, name, version)));
        return admin;
    }
}
