using FuncKeyOps.Admin;
using FuncKeyOps.Audit;
using FuncKeyOps.ClientKeys;
using FuncKeyOps.Health;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Hosting;

/// <summary>Routes of the Server host. The Functions host maps the same handlers with HttpTriggers on the same routes.</summary>
public static class EndpointMapping
{
    public static IEndpointRouteBuilder MapFuncKeyOps(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapGet("/" + HealthEndpoint.Route, HealthEndpoint.WriteAsync);
        api.Map("/" + RelayHandler.Route, (HttpContext context, string provider, string? path) =>
            context.RequestServices.GetRequiredService<RelayHandler>().HandleAsync(context, provider, path));

        // /api/admin as designed; /api/manage too, because the Functions host reserves routes starting with "admin".
        foreach (var prefix in new[] { "/admin", "/manage" })
        {
            api.MapGroup(prefix)
                .MapRelayKeyAdmin()
                .MapProviderKeyAdmin()
                .MapAuditAdmin()
                .MapAdminEvents();
        }
        return endpoints;
    }
}
