using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Audit;

/// <summary><c>GET usage?providerKey=&amp;from=&amp;to=&amp;groupBy=</c>, behind <see cref="AdminEndpoint"/>.</summary>
public static class UsageAdminHandlers
{
    /// <summary>
    /// The window when <c>from</c> is not given: the day before <c>to</c> (now by default), the span providers'
    /// usage reports and daily budgets are read in.
    /// </summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(1);

    /// <summary>
    /// <c>{from, to, providerKey, groupBy, totals, versions, groups}</c> (<see cref="UsageReport"/>). Without
    /// <c>providerKey</c> every key's rows are counted; <c>groupBy</c> is <c>providerKey</c> (default),
    /// <c>relayKey</c> or <c>model</c>. A key no row names (unknown, deleted, unused) has zero usage, not a 404.
    /// </summary>
    public static async Task SummarizeAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (!AdminQuery.TryWindow(query, now, end => end - DefaultRange, UsageQuery.MaxRange, out var from, out var to, out var error))
        {
            await BadRequest(context, error).ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["providerKey"], out var providerKey))
        {
            await BadRequest(context, "providerKey must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["groupBy"], out var groupByName) || !TryGroupBy(groupByName, out var groupBy))
        {
            await BadRequest(context, "groupBy must be one of providerKey, relayKey, model.").ConfigureAwait(false);
            return;
        }
        // Storage failures and timeouts are the gate's: 503 with Retry-After.
        var report = await context.RequestServices.GetRequiredService<UsageQuery>()
            .SummarizeAsync(from, to, providerKey, groupBy, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, report).ConfigureAwait(false);
    }

    private static bool TryGroupBy(string? name, out UsageGroupBy groupBy)
    {
        groupBy = UsageGroupBy.ProviderKey;
        if (name is null)
            return true;
        foreach (var value in Enum.GetValues<UsageGroupBy>())
        {
            if (string.Equals(name, UsageQuery.Name(value), StringComparison.Ordinal))
            {
                groupBy = value;
                return true;
            }
        }
        return false;
    }

    private static Task BadRequest(HttpContext context, string message) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, message);
}
