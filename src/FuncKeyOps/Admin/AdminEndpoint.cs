using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Admin;

/// <summary>The gate every admin handler runs behind, in both hosts.</summary>
public static class AdminEndpoint
{
    public static async Task RunAsync(HttpContext context, Func<HttpContext, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        // Admin answers can hold a freshly created key: no cache may keep them.
        context.Response.Headers.CacheControl = "no-store";

        var auth = context.RequestServices.GetRequiredService<AdminAuth>();
        var presented = context.Request.Headers[AdminAuth.HeaderName].ToString();
        switch (await auth.CheckAsync(presented, context.RequestAborted).ConfigureAwait(false))
        {
            case AdminAuthOutcome.Authorized:
                await handler(context).ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Missing:
                await ApiErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized",
                    $"The {AdminAuth.HeaderName} header is required.").ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Wrong:
                await ApiErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, "unauthorized",
                    "The admin key is not valid.").ConfigureAwait(false);
                return;
            default:
                await ApiErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "admin_key_unavailable",
                    "The admin key cannot be checked right now; try again shortly.").ConfigureAwait(false);
                return;
        }
    }
}
