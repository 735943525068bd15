using FuncKeyOps.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace FuncKeyOps.Hosting;

/// <summary>Routes of the Server host. The Functions host maps the same handlers with HttpTriggers on the same routes.</summary>
public static class EndpointMapping
{
    public static IEndpointRouteBuilder MapFuncKeyOps(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.MapGet("/" + HealthEndpoint.Route, HealthEndpoint.WriteAsync);
        return endpoints;
    }
}
