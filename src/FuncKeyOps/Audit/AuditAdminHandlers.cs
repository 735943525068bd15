using System.Globalization;
using System.Text.Json;
using Azure;
using FuncKeyOps.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace FuncKeyOps.Audit;

/// <summary>
/// <c>GET /api/admin/audit?from=&amp;to=&amp;relayKeyId=&amp;limit=</c>. Written against <see cref="HttpContext"/> so both
/// hosts call it; the caller has already authenticated the admin.
/// </summary>
public static partial class AuditAdminHandlers
{
    public const string Route = "audit";

    /// <summary>Longest window one call may read: one month's table and a bit, so a call stays cheap.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);

    private static readonly TimeSpan DefaultRange = TimeSpan.FromHours(1);

    public static async Task QueryAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (!TryTime(query["to"], now, out var to) || !TryTime(query["from"], to - DefaultRange, out var from))
        {
            await WriteErrorAsync(context, 400, "invalid_request", "from and to must be ISO-8601 times, such as 2026-11-23T09:00:00Z.").ConfigureAwait(false);
            return;
        }
        if (from > to)
        {
            await WriteErrorAsync(context, 400, "invalid_request", "from must not be after to.").ConfigureAwait(false);
            return;
        }
        if (to - from > MaxRange)
        {
            await WriteErrorAsync(context, 400, "invalid_request", "The range may span at most 31 days.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryLimit(query["limit"], AuditQuery.DefaultLimit, AuditQuery.MaxLimit, out var limit))
        {
            await WriteErrorAsync(context, 400, "invalid_request", $"limit must be a whole number from 1 to {AuditQuery.MaxLimit}.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["relayKeyId"], out var relayKeyId))
        {
            await WriteErrorAsync(context, 400, "invalid_request", "relayKeyId must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }

        IReadOnlyList<AuditRecord> items;
        try
        {
            items = await context.RequestServices.GetRequiredService<AuditQuery>()
                .QueryAsync(from, to, relayKeyId, limit, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or AggregateException && !context.RequestAborted.IsCancellationRequested)
        {
            LogQueryFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AuditAdminHandlers)), e);
            await WriteErrorAsync(context, 503, "storage_unavailable", "Table Storage did not answer; try again.").ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(new { items, count = items.Count }, JsonOptions, context.RequestAborted).ConfigureAwait(false);
    }

    // ISO-8601 only (no culture-dependent formats); UTC when no offset is given. Absent means the default.
    private static bool TryTime(StringValues values, DateTimeOffset fallback, out DateTimeOffset time)
    {
        time = fallback;
        if (values.Count == 0)
            return true;
        return values.Count == 1
            && DateTimeOffset.TryParseExact(values[0], IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }

    private static readonly string[] IsoFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd"];

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(new { error = new { code, message } }, JsonOptions, context.RequestAborted);
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audit query failed: Table Storage did not answer")]
    private static partial void LogQueryFailed(ILogger logger, Exception exception);
}
