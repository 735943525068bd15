using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Anomalies.Findings;

/// <summary>
/// The admin API's findings calls, written against <see cref="HttpContext"/> so both hosts call them, behind
/// <see cref="AdminEndpoint"/> (which records <c>ack</c> and <c>resolve</c> in the admin trail).
/// </summary>
public static class FindingAdminHandlers
{
    /// <summary>The range when <c>from</c> is not given: the week before <c>to</c> (now by default).</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(7);

    /// <summary>
    /// Longest range one call may read: a year. A page steps back through an empty stretch in spans of at most 32 days,
    /// so this bounds the queries one call can cost (about twenty), whatever range is asked for.
    /// </summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    /// <summary>
    /// <c>GET findings?from=&amp;to=&amp;status=&amp;detector=&amp;subject=&amp;limit=&amp;continuation=</c>:
    /// <c>{"items":[...],"next":...}</c>, the findings whose window starts in [from, to), newest first; pass <c>next</c>
    /// back as <c>continuation</c> (the range and filters come with it) until it is null.
    /// </summary>
    public static async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!AdminQuery.TryOptional(query["continuation"], out var continuation))
        {
            await BadRequest(context, "continuation must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }
        FindingPageToken? token = null;
        if (continuation is not null && !FindingPageToken.TryDecode(continuation, out token))
        {
            await BadRequest(context, "continuation is not a token from an earlier page.").ConfigureAwait(false);
            return;
        }
        // A continuation carries its range, so following next needs no from/to (and a default to would have moved).
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var carried = token?.Query;
        if (!AdminQuery.TryWindow(query, carried?.To ?? now, end => carried?.From ?? end - DefaultRange, MaxRange, out var from, out var to, out var error))
        {
            await BadRequest(context, error).ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryLimit(query["limit"], FindingStore.DefaultPageSize, FindingStore.MaxPageSize, out var limit))
        {
            await BadRequest(context, $"limit must be a whole number from 1 to {FindingStore.MaxPageSize}.").ConfigureAwait(false);
            return;
        }
        if (!TryStatus(query["status"], out var status))
        {
            await BadRequest(context, "status must be open, acknowledged or resolved, given at most once.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["detector"], out var detector) || detector is not null && !Detectors.All.Contains(detector))
        {
            await BadRequest(context, $"detector must be one of {string.Join(", ", Detectors.All)}, given at most once.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["subject"], out var subject))
        {
            await BadRequest(context, "subject must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }

        var selection = new FindingQuery(from, to, status ?? carried?.Status, detector ?? carried?.Detector, subject ?? carried?.Subject);
        try
        {
            var (findings, next) = await Store(context).PageAsync(selection, limit, continuation, context.RequestAborted).ConfigureAwait(false);
            await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items = findings.Select(FindingView.From), next }).ConfigureAwait(false);
        }
        catch (FormatException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary><c>GET findings/{id}</c>: the finding, or 404.</summary>
    public static async Task GetAsync(HttpContext context, string id)
    {
        var stored = await Store(context).GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        if (stored is null)
            await NotFound(context, id).ConfigureAwait(false);
        else
            await AdminJson.WriteAsync(context, StatusCodes.Status200OK, FindingView.From(stored.Finding)).ConfigureAwait(false);
    }

    /// <summary><c>POST findings/{id}/ack</c>: 200 with the finding (also when acknowledged already), 404, or 409 when resolved.</summary>
    public static Task AcknowledgeAsync(HttpContext context, string id) => ChangeStatusAsync(context, id, FindingStatus.Acknowledged);

    /// <summary><c>POST findings/{id}/resolve</c>: 200 with the finding (also when resolved already: the first resolver stays), or 404.</summary>
    public static Task ResolveAsync(HttpContext context, string id) => ChangeStatusAsync(context, id, FindingStatus.Resolved);

    private static async Task ChangeStatusAsync(HttpContext context, string id, FindingStatus target)
    {
        // Named as the admin trail names the caller: the fingerprint of the admin key presented.
        var changedBy = AdminTrail.Fingerprint(context.Request.Headers[AdminAuth.HeaderName].ToString());
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var (outcome, finding) = await Store(context).ChangeStatusAsync(id, target, changedBy, now, context.RequestAborted).ConfigureAwait(false);
        switch (outcome)
        {
            case StatusChange.NotFound:
                await NotFound(context, id).ConfigureAwait(false);
                return;
            case StatusChange.Conflict:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                    $"Finding '{id}' is {FindingView.Name(finding!.Status)}; it cannot be {FindingView.Name(target)} again.").ConfigureAwait(false);
                return;
            default:
                await AdminJson.WriteAsync(context, StatusCodes.Status200OK, FindingView.From(finding!)).ConfigureAwait(false);
                return;
        }
    }

    private static Task NotFound(HttpContext context, string id) =>
        // Only an id the sweep could have made is echoed: someone may paste a key into the URL.
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound,
            FindingRows.TryPartitionOf(id, out _) ? $"No finding has id '{id}'." : "No finding has this id.");

    private static bool TryStatus(Microsoft.Extensions.Primitives.StringValues values, out FindingStatus? status)
    {
        status = null;
        if (!AdminQuery.TryOptional(values, out var text))
            return false;
        if (text is null)
            return true;
        if (!FindingView.TryStatus(text, out var named))
            return false;
        status = named;
        return true;
    }

    private static Task BadRequest(HttpContext context, string message) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, message);

    private static FindingStore Store(HttpContext context) => context.RequestServices.GetRequiredService<FindingStore>();
}
