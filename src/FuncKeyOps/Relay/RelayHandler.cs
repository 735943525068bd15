using FuncKeyOps.Audit;
using FuncKeyOps.Errors;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using FuncKeyOps.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Relay;

/// <summary>
/// <c>/api/relay/{provider}/{*path}</c>, written once against HttpContext for both hosts:
/// adapter (404) -> relay key (401) -> provider and source IP (403) -> quota (429) -> body limit (413) -> model (403)
/// -> route (one provider key, or a pool's members) -> the key's own limit -> forward: one key with retries (then once on
/// the other weighted version, see ForwardAsync), several keys one attempt each in turn (see FailOverAsync) -> stream
/// back -> audit + usage. Every outcome is audited.
/// </summary>
/// <remarks>
/// One class in parts, one file each: this one the pipeline up to the route, <c>RelayHandler.Forward.cs</c> a route of
/// one key, <c>RelayHandler.FailOver.cs</c> a route of several, <c>RelayHandler.Attempt.cs</c> one send and the relaying
/// of its answer, <c>RelayHandler.Log.cs</c> the log messages.
/// </remarks>
public sealed partial class RelayHandler(
    ProviderCatalog catalog,
    RelayKeyAuthenticator authenticator,
    IQuotaGate quotas,
    IProviderRouter router,
    ProviderKeyResolver providerKeys,
    IProviderKeyLimiter limiter,
    ProviderKeyCircuits circuits,
    UpstreamClient upstream,
    IAuditSink audit,
    SecretRedactor redactor,
    RelayTelemetry telemetry,
    IOptions<RelayOptions> options,
    TimeProvider time,
    ILogger<RelayHandler> logger)
{
    public const string RequestIdHeader = "x-fko-request-id";

    private readonly RelayOptions _options = options.Value;
    private readonly SourceAddress _sourceAddress = SourceAddress.From(options.Value.TrustedProxies);

    public async Task HandleAsync(HttpContext context, string provider, string? path)
    {
        using var span = RelayTelemetry.Start();
        var sourceIp = _sourceAddress.Resolve(context);
        var call = new RelayCall
        {
            Started = time.GetTimestamp(),
            RequestId = Guid.CreateVersion7().ToString("N"),
            Time = time.GetUtcNow(),
            Provider = AuditText.Provider(catalog, provider),
            Method = AuditText.Method(context.Request.Method),
            // Masked before cut: cutting first could leave part of a key the masking no longer recognises.
            Path = Truncate(redactor.Redact(path ?? ""), 512),
            SourceIp = sourceIp?.ToString(),
            UserAgent = Truncate(redactor.Redact(context.Request.Headers.UserAgent.ToString()), 256),
        };
        context.Response.Headers[RequestIdHeader] = call.RequestId;
        try
        {
            await RelayAsync(context, call, path ?? "", sourceIp).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
            ClientClosed(call); // mid-stream, or mid-body over HTTP/2: nobody left to answer
        }
        catch (BadHttpRequestException e)
        {
            // The client's body, not the relay, failed: gone mid-body (499), too slow for Kestrel's minimum data rate
            // (408), broken chunked framing or JSON that is not UTF-8 (400). Kestrel's messages name the fault and
            // never carry the client's data.
            if (e is not MalformedBodyException && e.StatusCode == StatusCodes.Status400BadRequest && await ClientLeftAsync(context).ConfigureAwait(false))
            {
                ClientClosed(call);
            }
            else
            {
                LogClientFault(logger, call.RequestId, e.StatusCode, e.Message);
                await RelayErrors.WriteAsync(context, catalog.TryGet(provider, out var adapter) ? adapter : catalog.Fallback, call,
                    FuncKeyOpsErrors.ForUnreadableBody(e.StatusCode), e.Message).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            LogRelayFailed(logger, call.RequestId, e);
            call.ErrorCode ??= FuncKeyOpsErrors.RelayError.Code;
            if (context.Response.HasStarted)
                context.Abort(); // the client must see a broken stream, not a clean end
            else if (catalog.TryGet(provider, out var adapter))
                await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.RelayError).ConfigureAwait(false);
        }
        finally
        {
            // Also after a broken stream: tokens the provider reported before it broke still count, and an abandoned
            // attempt's estimate (the provider bills it; budgets must not undercount just when something went wrong).
            TokenEstimate.Apply(call);
            if (call.Key is { } key && (call.InputTokens is not null || call.OutputTokens is not null))
            {
                var usage = new TokenUsage(call.InputTokens, call.OutputTokens);
                quotas.RecordUsage(key, usage);
                if (call.ServingKey is { } served)
                    limiter.RecordUsage(served, usage);
            }
            var elapsed = time.GetElapsedTime(call.Started);
            telemetry.Finish(span, call, elapsed);
            audit.Enqueue(call.ToRecord(elapsed));
        }
    }

    private async Task RelayAsync(HttpContext context, RelayCall call, string path, System.Net.IPAddress? sourceIp)
    {
        var request = context.Request;
        var aborted = context.RequestAborted;
        // First, so that no call is served that the audit could not record (Audit:WhenFull=reject). This refusal's own
        // row is enqueued as every row is, and the spill keeps a reserve beyond its limit for such rows.
        if (!audit.HasRoom)
        {
            var shape = catalog.TryGet(call.Provider, out var known) ? known : catalog.Fallback;
            await RelayErrors.WriteAsync(context, shape, call, FuncKeyOpsErrors.AuditUnavailable, retryAfter: TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }
        // Checked on the target as sent: the server folds dot segments away before routing, so an escape
        // attempt may otherwise arrive as a harmless-looking route under another provider name.
        var adapter = catalog.TryGet(call.Provider, out var found) ? found : null;
        if (!UpstreamPath.IsSafeRawTarget(context.Features.Get<IHttpRequestFeature>()?.RawTarget))
        {
            await RelayErrors.WriteAsync(context, adapter ?? catalog.Fallback, call, FuncKeyOpsErrors.InvalidPath).ConfigureAwait(false);
            return;
        }
        if (adapter is null)
        {
            await RelayErrors.WriteAsync(context, catalog.Fallback, call, FuncKeyOpsErrors.UnknownProvider,
                $"Unknown provider. Use one of: {string.Join(", ", catalog.Names)}.").ConfigureAwait(false);
            return;
        }

        RelayKeyAuthentication auth;
        try
        {
            auth = await authenticator.AuthenticateAsync(adapter.ReadClientKey(request), time.GetUtcNow(), aborted).ConfigureAwait(false);
        }
        catch (RelayKeyUnavailableException)
        {
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.RelayKeyUnavailable, retryAfter: TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }
        if (auth.Key is not { } key)
        {
            call.ClaimedKey = auth.Claimed;
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidRelayKey, auth.Message).ConfigureAwait(false);
            return;
        }
        call.Key = key;

        if (key.Providers.Count > 0 && !key.Providers.Contains(adapter.Name))
        {
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderNotAllowed).ConfigureAwait(false);
            return;
        }
        if (key.AllowedIps.Count > 0 && !IpAllowList.Allows(key.AllowedIps, sourceIp))
        {
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.IpNotAllowed).ConfigureAwait(false);
            return;
        }

        var quota = await quotas.TryAcquireAsync(key, aborted).ConfigureAwait(false);
        if (!quota.Allowed)
        {
            await RelayErrors.WriteAsync(context, adapter, call, quota.Refusal ?? FuncKeyOpsErrors.RateLimited,
                retryAfter: quota.RetryAfter ?? TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            return;
        }

        using var body = await BufferedRequestBody.ReadAsync(request, _options.MaxRequestBodyBytes, aborted).ConfigureAwait(false);
        if (body is null)
        {
            call.RequestBytes = request.ContentLength ?? _options.MaxRequestBodyBytes + 1;
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.RequestTooLarge,
                $"The request body is larger than {_options.MaxRequestBodyBytes} bytes.").ConfigureAwait(false);
            return;
        }
        call.RequestBytes = body.Length;
        call.BodySha256 = body.Length > 0 ? body.Sha256 : null;

        var plan = adapter.PlanRequest(request.Method, path, request.QueryString.Value, body.Memory);
        call.Model = plan.Model is null ? null : Truncate(redactor.Redact(plan.Model), 128);
        call.Streamed = plan.Streaming;
        if (ModelAllowList.Check(key, plan, request) is { } refused)
        {
            await RelayErrors.WriteAsync(context, adapter, call, refused.Error, refused.Message).ConfigureAwait(false);
            return;
        }
        call.ModelAllowed = true;

        ProviderRoute route;
        ProviderKeyResolution? resolution = null;
        try
        {
            route = await router.RouteAsync(key, adapter.Name, aborted).ConfigureAwait(false);
            call.Pool = route.Pool;
            if (route.Missing is null && route.Members.Count == 1)
                resolution = await providerKeys.ResolveAsync(route.Members[0].Key, aborted).ConfigureAwait(false);
        }
        catch (SecretStoreException e)
        {
            LogProviderKeyUnavailable(logger, call.RequestId, e.Status);
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderKeyUnavailable).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is TimeoutException || StorageReadFailure.Is(e))
        {
            // Table Storage down past the registry's stale bound (ProviderKeys:MaxStale): an outage, not a relay fault.
            LogRegistryUnavailable(logger, call.RequestId, e.GetType().Name);
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.StorageUnavailable, retryAfter: TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return;
        }
        if (route.Missing is null && resolution is null)
        {
            await FailOverAsync(context, adapter, call, plan, route, path).ConfigureAwait(false);
            return;
        }
        if (resolution?.Key is not { } providerKey)
        {
            // Waits on an operator (register or activate), so no Retry-After: SDKs would only retry into the same answer.
            await RelayErrors.WriteAsync(context, adapter, call, route.Missing ?? resolution!.Value.Missing!).ConfigureAwait(false);
            return;
        }
        call.ProviderKeyName = providerKey.Config.Name;
        call.ProviderKeyVersion = providerKey.Version;

        if (!UpstreamPath.TryBuild(providerKey.Config.BaseUrl, path, UpstreamRequestFactory.FilterQuery(request, adapter), out var upstreamUri))
        {
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidPath).ConfigureAwait(false);
            return;
        }

        await ForwardAsync(context, adapter, call, plan, upstreamUri!, providerKey).ConfigureAwait(false);
    }

    /// <summary>
    /// Kestrel reports a client that closed its connection mid-body as a 400 (unexpected end of request content) and
    /// aborts the request just after, from the thread pool: the abort, not the message, says the client is gone. A
    /// client that is still there waits <see cref="AbortGrace"/> longer for its 400 (long enough for a busy thread pool;
    /// only malformed framing takes this path).
    /// </summary>
    private async Task<bool> ClientLeftAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(AbortGrace, time, context.RequestAborted).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    private void ClientClosed(RelayCall call)
    {
        call.Status = FuncKeyOpsErrors.ClientClosedRequest.Status;
        call.ErrorCode = FuncKeyOpsErrors.ClientClosedRequest.Code;
        LogClientClosed(logger, call.RequestId);
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];
}
