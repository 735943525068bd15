using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace FuncKeyOps.Hosting;

/// <summary>
/// One row of <see cref="Routes"/>: a template below <c>/api</c> (admin routes: below the admin prefix), the
/// methods it answers (none listed: every method), who may call it, and the handler, which reads its parameters
/// from <see cref="HttpRequest.RouteValues"/> as both hosts fill them.
/// </summary>
public sealed class ApiRoute
{
    public ApiRoute(string template, IReadOnlyList<string> methods, RouteAccess access, RequestDelegate handler)
    {
        Template = template;
        Methods = methods;
        Access = access;
        Handler = handler;
        Pattern = RoutePatternFactory.Parse(template);
    }

    public string Template { get; }
    public IReadOnlyList<string> Methods { get; }
    public RouteAccess Access { get; }
    public RequestDelegate Handler { get; }
    public RoutePattern Pattern { get; }

    public bool AnswersEveryMethod => Methods.Count == 0;

    public bool Answers(string method) => AnswersEveryMethod || Methods.Any(m => string.Equals(m, method, StringComparison.OrdinalIgnoreCase));

    /// <summary>The call as routed: admin and tenant routes behind the admin gate, the others straight to their handler.</summary>
    public Task RunAsync(HttpContext context) =>
        Access is RouteAccess.Admin or RouteAccess.Tenant ? Admin.AdminEndpoint.RunAsync(context, this) : Handler(context);

    /// <summary>A route parameter's value, as routing or <see cref="Admin.AdminDispatcher"/> matched it.</summary>
    public static string? Value(HttpContext context, string name) =>
        context.GetRouteValue(name)?.ToString();

    public override string ToString() => $"{(AnswersEveryMethod ? "*" : string.Join(',', Methods))} {Template}";
}
