using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Admin;

/// <summary>
/// The gate every admin handler runs behind, in both hosts: checks the admin key, bounds the call's time on the
/// stores (<see cref="AdminOptions.StorageTimeout"/>, 503 with Retry-After beyond it), and leaves an
/// <see cref="AdminEvent"/> for every change and every failed authentication.
/// </summary>
public static partial class AdminEndpoint
{
    /// <summary>A row of <see cref="Hosting.Routes.Admin"/>, as either host routed it.</summary>
    public static Task RunAsync(HttpContext context, Hosting.ApiRoute route)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(route);
        // The admin event names the row's template, whichever host routed the call.
        context.Items[AdminTrail.RouteItem] = route;
        return RunAsync(context, new Func<HttpContext, Task>(route.Handler));
    }

    public static async Task RunAsync(HttpContext context, Func<HttpContext, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        // Admin answers can hold a freshly created key: no cache may keep them.
        context.Response.Headers.CacheControl = "no-store";

        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<IOptions<AdminOptions>>().Value;
        var arrived = time.GetUtcNow();
        var presented = context.Request.Headers[AdminAuth.HeaderName].ToString();

        // Handlers pass context.RequestAborted to every storage call, so bounding that token bounds them all.
        var requestAborted = context.RequestAborted;
        using var timeout = new CancellationTokenSource(options.StorageTimeout, time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, timeout.Token);
        context.RequestAborted = bounded.Token;
        var outcome = AdminAuthOutcome.Unavailable;
        var storageDown = false;
        var failed = false;
        try
        {
            outcome = await services.GetRequiredService<AdminAuth>().CheckAsync(presented, bounded.Token).ConfigureAwait(false);
            await AnswerAsync(context, outcome, handler, options.StorageTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && !requestAborted.IsCancellationRequested
            && (e is OperationCanceledException && timeout.IsCancellationRequested || StorageFailure.Is(e)))
        {
            storageDown = true;
            context.RequestAborted = requestAborted;
            LogStorageFailed(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminEndpoint)),
                context.Request.Method, options.StorageTimeout, e);
            await WriteUnavailableAsync(context, options.StorageTimeout).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A bug or a client that left: the host answers (500) or drops it; the attempt is still on record.
            failed = true;
            throw;
        }
        finally
        {
            context.RequestAborted = requestAborted;
            if (AdminTrail.Records(context.Request.Method, outcome))
                await RecordAsync(context, outcome, arrived, presented, storageDown, failed, requestAborted.IsCancellationRequested).ConfigureAwait(false);
        }
    }

    private static async Task RecordAsync(HttpContext context, AdminAuthOutcome outcome, DateTimeOffset arrived, string presented,
        bool storageDown, bool failed, bool clientLeft)
    {
        var trail = context.RequestServices.GetRequiredService<AdminTrail>();
        int? status = failed && !context.Response.HasStarted
            ? clientLeft ? FuncKeyOpsErrors.ClientClosedRequest.Status : StatusCodes.Status500InternalServerError
            : null;
        var adminEvent = trail.Describe(context, arrived, presented, status);
        if (outcome is AdminAuthOutcome.Missing or AdminAuthOutcome.Wrong)
            trail.LogFailedAuthentication(adminEvent, outcome);
        // Before the gate returns, so the caller's answer completes only once the change it made is on record.
        await trail.RecordAsync(adminEvent, storageDown).ConfigureAwait(false);
    }

    private static async Task AnswerAsync(HttpContext context, AdminAuthOutcome outcome, Func<HttpContext, Task> handler, TimeSpan storageTimeout)
    {
        switch (outcome)
        {
            case AdminAuthOutcome.Authorized:
                await handler(context).ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Missing:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Unauthorized, $"The {AdminAuth.HeaderName} header is required.").ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Wrong:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Unauthorized).ConfigureAwait(false);
                return;
            default:
                // The vault is what failed here, so the same wait as for any other store.
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.AdminKeyUnavailable, retryAfter: storageTimeout).ConfigureAwait(false);
                return;
        }
    }

    // Retry-After about as long as the store was just given: sooner would most likely meet the same stall.
    private static Task WriteUnavailableAsync(HttpContext context, TimeSpan storageTimeout) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.StorageUnavailable, retryAfter: storageTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin {Method} answered 503: a store failed or did not answer within {Timeout}")]
    private static partial void LogStorageFailed(ILogger logger, string method, TimeSpan timeout, Exception exception);
}
