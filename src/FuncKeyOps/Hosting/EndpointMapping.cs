using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncKeyOps.Hosting;

/// <summary>The Server host's endpoints: every row of <see cref="Routes"/>, one endpoint each.</summary>
public static class EndpointMapping
{
    public static IEndpointRouteBuilder MapFuncKeyOps(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        foreach (var route in Routes.Public.Concat(Routes.Tenant))
            Map(api, route);
        // /api/admin as designed; /api/manage too, the one prefix the Functions host can serve.
        foreach (var prefix in new[] { Routes.AdminPrefix, Routes.ManagePrefix })
            api.MapGroup("/" + prefix).MapAdminRoutes();
        return endpoints;
    }

    /// <summary>Every admin row of <see cref="Routes"/> on an admin group, each behind the admin gate.</summary>
    public static RouteGroupBuilder MapAdminRoutes(this RouteGroupBuilder admin)
    {
        foreach (var route in Routes.Admin)
            Map(admin, route);
        return admin;
    }

    private static void Map(IEndpointRouteBuilder endpoints, ApiRoute route)
    {
        var pattern = "/" + route.Template;
        RequestDelegate run = route.RunAsync;
        if (route.AnswersEveryMethod)
            endpoints.Map(pattern, run);
        else
            endpoints.MapMethods(pattern, route.Methods, run);
    }
}
