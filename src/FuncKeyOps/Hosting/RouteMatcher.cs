using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace FuncKeyOps.Hosting;

/// <summary>
/// Rows of <see cref="Routes"/> behind one catch-all Functions trigger: finds the row for a path with ASP.NET Core's
/// own template matcher, most specific template first as endpoint routing orders them, so both hosts pick the same
/// row for a path. <see cref="Admin"/> serves the admin trigger, <see cref="Tenant"/> the tenant trigger.
/// </summary>
public sealed class RouteMatcher
{
    private readonly (ApiRoute Route, TemplateMatcher Matcher)[] _table;
    private readonly string _noRoute;

    private RouteMatcher(IEnumerable<ApiRoute> routes, string noRoute)
    {
        _noRoute = noRoute;
        _table = routes
            .Select(route => (Route: route, Template: TemplateParser.Parse(route.Template)))
            .OrderBy(row => RoutePrecedence.ComputeInbound(row.Template))
            .Select(row => (row.Route, new TemplateMatcher(row.Template, new RouteValueDictionary())))
            .ToArray();
    }

    public static RouteMatcher Admin { get; } = new(Routes.Admin, "No admin route has this path.");
    public static RouteMatcher Tenant { get; } = new(Routes.Tenant, "No tenant route has this path.");

    /// <param name="path">The path below the trigger's prefix as the table writes it, e.g. <c>relay-keys/{id}/suspend</c> with an id.</param>
    public Task DispatchAsync(HttpContext context, string? path)
    {
        ArgumentNullException.ThrowIfNull(context);
        var route = Match(context.Request.Method, path, out var values, out var allowed);
        if (route is not null)
        {
            context.Request.RouteValues = values;
            return route.RunAsync(context);
        }
        // Answered before the gate, as endpoint routing does on the Server host: nothing here reads a store.
        if (allowed.Count > 0)
        {
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return ApiErrors.WriteAsync(context, FuncKeyOpsErrors.MethodNotAllowed,
                $"This route answers {string.Join(", ", allowed)}.");
        }
        return ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, _noRoute);
    }

    /// <summary>The row for a call, with its route values; or null, with the methods the path answers (none: no such path).</summary>
    public ApiRoute? Match(string method, string? path, out RouteValueDictionary values, out IReadOnlyList<string> allowed)
    {
        var requestPath = new PathString("/" + (path ?? "").TrimStart('/'));
        var methods = new List<string>();
        foreach (var (route, matcher) in _table)
        {
            var candidate = new RouteValueDictionary();
            if (!matcher.TryMatch(requestPath, candidate))
                continue;
            if (route.Answers(method))
            {
                values = candidate;
                allowed = [];
                return route;
            }
            methods.AddRange(route.Methods);
        }
        values = [];
        allowed = methods.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        return null;
    }
}
