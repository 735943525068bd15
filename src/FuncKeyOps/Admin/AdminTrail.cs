using System.Security.Cryptography;
using System.Text;
using FuncKeyOps.Hosting;
using FuncKeyOps.Logging;
using FuncKeyOps.Relay;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Admin;

/// <summary>
/// Turns an admin call the gate has finished into an <see cref="AdminEvent"/> and stores it. Lives in the gate so
/// every admin route is covered, including ones added later, with no code in the handlers.
/// </summary>
public sealed partial class AdminTrail(
    AdminEventStore store,
    IOptions<AdminOptions> options,
    IOptions<RelayOptions> relay,
    SecretRedactor redactor,
    TimeProvider time,
    ILogger<AdminTrail> logger)
{
    internal const string ErrorCodeItem = "FuncKeyOps.Admin.ErrorCode";
    internal const string RouteItem = "FuncKeyOps.Admin.Route";

    private const int FingerprintLength = 8;
    private const int MaxTargetLength = 128;

    private readonly SourceAddress _sourceAddress = SourceAddress.From(relay.Value.TrustedProxies);
    private readonly TimeSpan _timeout = options.Value.StorageTimeout;

    /// <summary>
    /// Changes and failed authentications are recorded; successful reads are not: they change nothing, and
    /// dashboards that poll would bury the changes among them. Nor are calls refused for their rate limit: they change
    /// nothing either, and recording each would let a caller over its limit write the trail at the rate it is refused.
    /// </summary>
    public static bool Records(string method, AdminAuthOutcome outcome) =>
        outcome is AdminAuthOutcome.Missing or AdminAuthOutcome.Wrong or AdminAuthOutcome.Forbidden
        || outcome is not AdminAuthOutcome.Limited && !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method));

    /// <param name="actor">Who called: the admin key's <see cref="Fingerprint"/>, or <c>relay-key:{id}</c> on a tenant route; null when nobody said.</param>
    /// <param name="status">The status the call ended with, when not the response's (the handler threw).</param>
    public AdminEvent Describe(HttpContext context, DateTimeOffset arrived, string? actor, int? status = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pattern = RoutePatternOf(context);
        var ended = status ?? context.Response.StatusCode;
        return new AdminEvent
        {
            Id = Guid.CreateVersion7(arrived).ToString("N"),
            Time = arrived,
            Actor = actor,
            SourceIp = _sourceAddress.Resolve(context)?.ToString(),
            Method = context.Request.Method,
            Route = pattern is null ? "(unrouted)" : RouteBelowPrefix(pattern.RawText ?? ""),
            Target = Target(context, pattern, ended),
            Status = ended,
            ErrorCode = context.Items.TryGetValue(ErrorCodeItem, out var code) ? code as string : null,
        };
    }

    /// <summary>
    /// Stores the event, waiting at most <see cref="AdminOptions.StorageTimeout"/>. Never throws: the change it
    /// describes has happened, and answering 503 for it would invite a retry that repeats it (a second key). A
    /// failure is logged at Error with the whole event instead, so the trail survives in the logs.
    /// </summary>
    /// <param name="storageDown">The call itself just failed on storage: the event goes to the log at once rather
    /// than making the caller wait a second timeout for a write that will not succeed either.</param>
    public async Task RecordAsync(AdminEvent adminEvent, bool storageDown)
    {
        if (storageDown)
        {
            LogNotStored(logger, adminEvent.Method, adminEvent.Route, adminEvent.Target, adminEvent.Status, adminEvent.ErrorCode,
                adminEvent.Actor, adminEvent.SourceIp, adminEvent.Time, null);
            return;
        }
        // Not the request's token: a client that hangs up must not erase the trace of a change it made.
        using var timeout = new CancellationTokenSource(_timeout, time);
        try
        {
            await store.AppendAsync(adminEvent, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or Azure.RequestFailedException || StorageFailure.Is(e))
        {
            LogNotStored(logger, adminEvent.Method, adminEvent.Route, adminEvent.Target, adminEvent.Status, adminEvent.ErrorCode,
                adminEvent.Actor, adminEvent.SourceIp, adminEvent.Time, e);
        }
    }

    /// <summary>The caller's address as the relay resolves it, so the admin and tenant routes judge sources alike.</summary>
    internal System.Net.IPAddress? SourceOf(HttpContext context) => _sourceAddress.Resolve(context);

    public void LogFailedAuthentication(AdminEvent adminEvent, AdminAuthOutcome outcome) =>
        LogAuthFailed(logger, outcome, adminEvent.SourceIp, adminEvent.Method, adminEvent.Route, adminEvent.Actor);

    internal static string Fingerprint(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..FingerprintLength];

    // The row of the route table the call ran as (AdminEndpoint keeps it): on the Functions host the endpoint is
    // the one catch-all admin trigger, whose template says nothing. A handler mapped outside the table (tests'
    // probes) falls back to its endpoint's template.
    private static RoutePattern? RoutePatternOf(HttpContext context) =>
        context.Items.TryGetValue(RouteItem, out var route) && route is ApiRoute row
            ? row.Pattern
            : (context.GetEndpoint() as RouteEndpoint)?.RoutePattern;

    // "/api/admin/relay-keys/{id}" (an endpoint's template) becomes "relay-keys/{id}", as the table writes it.
    private static string RouteBelowPrefix(string pattern)
    {
        var route = pattern.TrimStart('/');
        foreach (var prefix in new[] { "api/", "admin/", "manage/" })
        {
            if (route.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                route = route[prefix.Length..];
        }
        return route;
    }

    private string? Target(HttpContext context, RoutePattern? pattern, int status)
    {
        var values = pattern?.Parameters
            .Select(p => context.Request.RouteValues.TryGetValue(p.Name, out var v) ? v?.ToString() : null)
            .Where(v => !string.IsNullOrEmpty(v))
            .ToArray() ?? [];
        var target = values.Length > 0 ? string.Join('/', values) : null;
        // A create names what it made in Location.
        if (target is null && status == StatusCodes.Status201Created && context.Response.Headers.Location.ToString() is { Length: > 0 } location)
            target = location[(location.LastIndexOf('/') + 1)..];
        if (target is null)
            return null;
        // Found or made (2xx) or found in a state that refuses the change (409): an id the service keeps anyway.
        var found = status is >= 200 and < 300 or StatusCodes.Status409Conflict;
        return found && IsPlainName(target) && redactor.Redact(target) == target ? target : "sha256:" + Fingerprint(target);
    }

    private static bool IsPlainName(string value) =>
        value.Length is > 0 and <= MaxTargetLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/');

    [LoggerMessage(Level = LogLevel.Warning, Message = "Admin authentication failed ({Outcome}) from {SourceIp} for {Method} {Route}, key fingerprint {Actor}")]
    private static partial void LogAuthFailed(ILogger logger, AdminAuthOutcome outcome, string? sourceIp, string method, string route, string? actor);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin event not stored: {Method} {Route} target {Target} answered {Status} {ErrorCode} for key fingerprint {Actor} from {SourceIp} at {Time:O}")]
    private static partial void LogNotStored(ILogger logger, string method, string route, string? target, int status, string? errorCode,
        string? actor, string? sourceIp, DateTimeOffset time, Exception? exception);
}
