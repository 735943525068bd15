using FuncKeyOps.Errors;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;

namespace FuncKeyOps.Admin;

/// <summary>
/// The admin API behind one catch-all trigger (the Functions host's <see cref="Routes.ManageTrigger"/>): finds the
/// row of <see cref="Routes.Admin"/> for the path below the admin prefix with ASP.NET Core's own template matcher,
/// most specific template first as endpoint routing orders them, so both hosts pick the same row for a path.
/// </summary>
public static class AdminDispatcher
{
    private static readonly (ApiRoute Route, TemplateMatcher Matcher)[] Table = Routes.Admin
        .Select(route => (Route: route, Template: TemplateParser.Parse(route.Template)))
        .OrderBy(row => RoutePrecedence.ComputeInbound(row.Template))
        .Select(row => (row.Route, new TemplateMatcher(row.Template, new RouteValueDictionary())))
        .ToArray();

    /// <param name="path">The path below the admin prefix, e.g. <c>relay-keys/{id}/suspend</c> with an id.</param>
    public static Task DispatchAsync(HttpContext context, string? path)
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
                $"This admin route answers {string.Join(", ", allowed)}.");
        }
        return ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, "No admin route has this path.");
    }

    /// <summary>The row for a call, with its route values; or null, with the methods the path answers (none: no such path).</summary>
    public static ApiRoute? Match(string method, string? path, out RouteValueDictionary values, out IReadOnlyList<string> allowed)
    {
        var requestPath = new PathString("/" + (path ?? "").TrimStart('/'));
        var methods = new List<string>();
        foreach (var (route, matcher) in Table)
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
