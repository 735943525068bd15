using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Admin;

/// <summary><c>GET admin-events?from=&amp;to=&amp;limit=&amp;continuation=</c>, behind <see cref="AdminEndpoint"/>.</summary>
public static class AdminEventHandlers
{
    /// <summary>Window when <c>from</c> is not given: admin events are few, so a long one stays one cheap page.</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    /// <summary><c>{"items":[...],"next":...}</c>, newest first; pass <c>next</c> back as <c>continuation</c> until it is null.</summary>
    public static async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        // No longest window: admin events are few.
        if (!AdminQuery.TryWindow(query, now, end => end - DefaultRange, TimeSpan.MaxValue, out var from, out var to, out var error))
        {
            await BadRequest(context, error).ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryLimit(query["limit"], AdminEventStore.DefaultPageSize, AdminEventStore.MaxPageSize, out var limit))
        {
            await BadRequest(context, $"limit must be a whole number from 1 to {AdminEventStore.MaxPageSize}.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["continuation"], out var continuation))
        {
            await BadRequest(context, "continuation must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }
        try
        {
            var (events, next) = await context.RequestServices.GetRequiredService<AdminEventStore>()
                .PageAsync(from, to, limit, continuation, context.RequestAborted).ConfigureAwait(false);
            await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items = events, next }).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
        }
    }

    private static Task BadRequest(HttpContext context, string message) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, message);
}
