using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Audit;

/// <summary>
/// <c>GET /api/admin/audit?from=&amp;to=&amp;relayKeyId=&amp;limit=&amp;continuation=</c>. Written against
/// <see cref="HttpContext"/> so both hosts call it; the caller has already authenticated the admin.
/// </summary>
public static class AuditAdminHandlers
{
    /// <summary>Longest window one call may read: one month's table and a bit, so a call stays cheap.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);

    /// <summary>The window when <c>from</c> is not given: the hour before <c>to</c> (now by default).</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(1);

    /// <summary>
    /// <c>{"items":[...],"count":n,"next":...}</c>, newest first; <c>next</c> goes back as <c>continuation</c> (with the
    /// same from, to and relayKeyId, or none of them) for the following page, and is null after the last.
    /// </summary>
    public static async Task QueryAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!AdminQuery.TryOptional(query["continuation"], out var continuation))
        {
            await BadRequest(context, "continuation must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }
        AuditPageToken? token = null;
        if (continuation is not null && !AuditPageToken.TryDecode(continuation, out token))
        {
            await BadRequest(context, "continuation is not a token from an earlier page.").ConfigureAwait(false);
            return;
        }
        // A continuation carries its window, so following next needs no from/to (and a default to would have moved).
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (!AdminQuery.TryWindow(query, token?.To ?? now, end => token?.From ?? end - DefaultRange, MaxRange, out var from, out var to, out var error))
        {
            await BadRequest(context, error).ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryLimit(query["limit"], AuditQuery.DefaultPageSize, AuditQuery.MaxPageSize, out var limit))
        {
            await BadRequest(context, $"limit must be a whole number from 1 to {AuditQuery.MaxPageSize}.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["relayKeyId"], out var relayKeyId))
        {
            await BadRequest(context, "relayKeyId must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }

        IReadOnlyList<AuditRecord> items;
        string? next;
        try
        {
            (items, next) = await context.RequestServices.GetRequiredService<AuditQuery>()
                .PageAsync(from, to, relayKeyId, limit, continuation, context.RequestAborted).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
            return;
        }
        // Storage failures and timeouts are the gate's: 503 with Retry-After.
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items, count = items.Count, next }).ConfigureAwait(false);
    }

    private static Task BadRequest(HttpContext context, string message) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, message);
}
