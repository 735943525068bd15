using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FuncKeyOps.Admin;

/// <summary>
/// The admin API behind one catch-all trigger (the Functions host's <see cref="Routes.ManageTrigger"/>): the row of
/// <see cref="Routes.Admin"/> for the path below the admin prefix, found by <see cref="RouteMatcher.Admin"/>.
/// </summary>
public static class AdminDispatcher
{
    /// <param name="path">The path below the admin prefix, e.g. <c>relay-keys/{id}/suspend</c> with an id.</param>
    public static Task DispatchAsync(HttpContext context, string? path) => RouteMatcher.Admin.DispatchAsync(context, path);

    /// <summary>The row for a call, with its route values; or null, with the methods the path answers (none: no such path).</summary>
    public static ApiRoute? Match(string method, string? path, out RouteValueDictionary values, out IReadOnlyList<string> allowed) =>
        RouteMatcher.Admin.Match(method, path, out values, out allowed);
}
