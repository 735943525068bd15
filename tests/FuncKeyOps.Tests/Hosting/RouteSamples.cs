using Microsoft.AspNetCore.Routing.Patterns;

namespace FuncKeyOps.Tests.Hosting;

/// <summary>A concrete path a route template matches, each parameter given a value named after it.</summary>
internal static class RouteSamples
{
    public static string PathFor(RoutePattern pattern) =>
        string.Join('/', pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart { IsCatchAll: true } catchAll => $"{catchAll.Name}-1/{catchAll.Name}-2",
            RoutePatternParameterPart parameter => parameter.Name + "-1",
            _ => throw new InvalidOperationException($"Unexpected part {part} in {pattern.RawText}"),
        }))));
}
