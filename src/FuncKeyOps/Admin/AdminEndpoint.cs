using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Admin;

/// <summary>
/// The gate every admin (and tenant) handler runs behind, in both hosts: checks the admin key (or the tenant's credential), bounds the call's time on the
/// stores (<see cref="AdminOptions.StorageTimeout"/>, 503 with Retry-After beyond it), and leaves an
/// <see cref="AdminEvent"/> for every change and every failed authentication (on the tenant routes, counted per source
/// and minute by <see cref="FailedAuthTally"/>).
/// </summary>
public static partial class AdminEndpoint
{
    /// <summary>A row of <see cref="Hosting.Routes.Admin"/> or <see cref="Hosting.Routes.Tenant"/>, as either host routed it.</summary>
    public static Task RunAsync(HttpContext context, Hosting.ApiRoute route)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(route);
        // The admin event names the row's template, whichever host routed the call.
        context.Items[AdminTrail.RouteItem] = route;
        return RunAsync(context, new Func<HttpContext, Task>(route.Handler),
            route.Access == Hosting.RouteAccess.Tenant ? Tenants.TenantGate.CheckAsync : CheckAdminKeyAsync);
    }

    public static Task RunAsync(HttpContext context, Func<HttpContext, Task> handler) => RunAsync(context, handler, CheckAdminKeyAsync);

    private const string ClientAbortedItem = "fko.admin.client-aborted";
    private const string AnsweredItem = "fko.admin.answered";

    /// <summary>
    /// The token an answer is written with, and the mark that the call has its answer. Once a handler writes its
    /// answer the change it reports is made: the stores' bound no longer applies, so a bound that runs out while the
    /// answer is written (a buffered body is not yet started) can neither cancel it nor add a 503 to it. The client
    /// leaving still cancels the write.
    /// </summary>
    internal static CancellationToken Answering(HttpContext context)
    {
        context.Items[AnsweredItem] = true;
        return context.Items.TryGetValue(ClientAbortedItem, out var token) && token is CancellationToken clientAborted
            ? clientAborted
            : context.RequestAborted;
    }

    /// <param name="check">Who the caller is: the admin key (<see cref="CheckAdminKeyAsync"/>) or a tenant's credential.</param>
    internal static async Task RunAsync(HttpContext context, Func<HttpContext, Task> handler, Func<HttpContext, CancellationToken, Task<GateCheck>> check)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(handler);
        // Admin answers can hold a freshly created key: no cache may keep them.
        context.Response.Headers.CacheControl = "no-store";

        var services = context.RequestServices;
        var time = services.GetRequiredService<TimeProvider>();
        var options = services.GetRequiredService<IOptions<AdminOptions>>().Value;
        var arrived = time.GetUtcNow();

        // Handlers pass context.RequestAborted to every storage call, so bounding that token bounds them all.
        var requestAborted = context.RequestAborted;
        using var timeout = new CancellationTokenSource(options.StorageTimeout, time);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, timeout.Token);
        context.RequestAborted = bounded.Token;
        context.Items[ClientAbortedItem] = requestAborted;
        var gate = new GateCheck(AdminAuthOutcome.Unavailable, null);
        var storageDown = false;
        var failed = false;
        try
        {
            gate = await check(context, bounded.Token).ConfigureAwait(false);
            await AnswerAsync(context, gate, handler, options.StorageTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.Items.ContainsKey(AnsweredItem) && !requestAborted.IsCancellationRequested
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
            if (AdminTrail.Records(context.Request.Method, gate.Outcome))
                await RecordAsync(context, gate, arrived, storageDown, failed, requestAborted.IsCancellationRequested).ConfigureAwait(false);
        }
    }

    /// <summary>The admin key in <see cref="AdminAuth.HeaderName"/>; the actor is its fingerprint.</summary>
    internal static async Task<GateCheck> CheckAdminKeyAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var presented = context.Request.Headers[AdminAuth.HeaderName].ToString();
        var outcome = await context.RequestServices.GetRequiredService<AdminAuth>().CheckAsync(presented, cancellationToken).ConfigureAwait(false);
        return new GateCheck(outcome, string.IsNullOrEmpty(presented) ? null : AdminTrail.Fingerprint(presented));
    }

    private static async Task RecordAsync(HttpContext context, GateCheck gate, DateTimeOffset arrived,
        bool storageDown, bool failed, bool clientLeft)
    {
        var trail = context.RequestServices.GetRequiredService<AdminTrail>();
        int? status = failed && !context.Response.HasStarted
            ? clientLeft ? FuncKeyOpsErrors.ClientClosedRequest.Status : StatusCodes.Status500InternalServerError
            : null;
        var adminEvent = trail.Describe(context, arrived, gate.Actor, status);
        // Anyone can fail on a tenant route (anonymous on the Functions host): counted, not a row and a warning each.
        if (gate.Outcome is AdminAuthOutcome.Missing or AdminAuthOutcome.Wrong
            && context.Items.TryGetValue(AdminTrail.RouteItem, out var route) && route is Hosting.ApiRoute { Access: Hosting.RouteAccess.Tenant })
        {
            context.RequestServices.GetRequiredService<FailedAuthTally>().Count(adminEvent, gate.Outcome);
            return;
        }
        if (gate.Outcome is AdminAuthOutcome.Missing or AdminAuthOutcome.Wrong or AdminAuthOutcome.Forbidden)
            trail.LogFailedAuthentication(adminEvent, gate.Outcome);
        // Before the gate returns, so the caller's answer completes only once the change it made is on record.
        await trail.RecordAsync(adminEvent, storageDown).ConfigureAwait(false);
    }

    private static async Task AnswerAsync(HttpContext context, GateCheck gate, Func<HttpContext, Task> handler, TimeSpan storageTimeout)
    {
        switch (gate.Outcome)
        {
            case AdminAuthOutcome.Authorized:
                await handler(context).ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Missing:
                await ApiErrors.WriteAsync(context, gate.Error ?? FuncKeyOpsErrors.Unauthorized, gate.Message ?? $"The {AdminAuth.HeaderName} header is required.").ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Wrong:
                await ApiErrors.WriteAsync(context, gate.Error ?? FuncKeyOpsErrors.Unauthorized, gate.Message).ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Forbidden:
                await ApiErrors.WriteAsync(context, gate.Error ?? FuncKeyOpsErrors.Forbidden, gate.Message).ConfigureAwait(false);
                return;
            case AdminAuthOutcome.Limited:
                await ApiErrors.WriteAsync(context, gate.Error ?? FuncKeyOpsErrors.RateLimited, gate.Message, gate.RetryAfter ?? TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                return;
            default:
                // The vault is what failed here, so the same wait as for any other store.
                await ApiErrors.WriteAsync(context, gate.Error ?? FuncKeyOpsErrors.AdminKeyUnavailable, gate.Message, retryAfter: storageTimeout).ConfigureAwait(false);
                return;
        }
    }

    // Retry-After about as long as the store was just given: sooner would most likely meet the same stall.
    private static Task WriteUnavailableAsync(HttpContext context, TimeSpan storageTimeout) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.StorageUnavailable, retryAfter: storageTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin {Method} answered 503: a store failed or did not answer within {Timeout}")]
    private static partial void LogStorageFailed(ILogger logger, string method, TimeSpan timeout, Exception exception);
}
