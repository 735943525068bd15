using System.Runtime.CompilerServices;
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
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FuncKeyOps.Relay;

/// <summary>
/// <c>/api/relay/{provider}/{*path}</c>, written once against HttpContext for both hosts:
/// adapter (404) -> relay key (401) -> provider and source IP (403) -> quota (429) -> body limit (413) -> model (403)
/// -> route (one provider key, or a pool's members) -> the key's own limit -> forward: one key with retries (then once on
/// the other weighted version, see ForwardAsync), several keys one attempt each in turn (see FailOverAsync) -> stream
/// back -> audit + usage. Every outcome is audited.
/// </summary>
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
            // Also after a broken stream: tokens the provider reported before it broke still count.
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

    private async Task ForwardAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, Uri upstreamUri, ResolvedProviderKey providerKey)
    {
        // Before sending: a request that cannot be built is the client's error, not an attempt at the provider.
        if (await RefuseUnsendableHeaderAsync(context, adapter, call).ConfigureAwait(false))
            return;
        // The key's own RPM/TPM ceiling holds whichever route uses it; alone, the key has no other member to pass to.
        var limit = await limiter.TryAcquireAsync(providerKey.Config, context.RequestAborted).ConfigureAwait(false);
        if (!limit.Allowed)
        {
            LogMemberSkipped(logger, call.RequestId, providerKey.Config.Name, "its rate limit is reached");
            await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderKeysBusy, retryAfter: limit.RetryAfter ?? OneSecond).ConfigureAwait(false);
            return;
        }
        call.ServingKey = providerKey.Config;
        var attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri, providerKey.Value, circuit: null).ConfigureAwait(false);
        // During a rotation two versions carry weight: one the provider refuses, or that cannot reach it, gets one more
        // try on the other, still before the client's first byte. The failed attempt keeps its own audit row, so a
        // sweep of error rates per version sees it as that version's error while the client sees no error at all.
        if (attempt is { MayRetryOnOtherVersion: true, Failure: { } first }
            && await providerKeys.ResolveOtherAsync(providerKey, context.RequestAborted).ConfigureAwait(false) is { } other)
        {
            LogRetryingOnOtherVersion(logger, call.RequestId, call.ProviderKeyName, call.ProviderKeyVersion, first.Code, other.Version);
            audit.Enqueue(call.RetryOn(other.Version, first, attempt.UpstreamStatus, time.GetElapsedTime(call.Started)));
            providerKey = other;
            attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri, providerKey.Value, circuit: null).ConfigureAwait(false);
        }
        if (attempt.Failure is { } failure)
        {
            call.UpstreamStatus = attempt.UpstreamStatus;
            await RelayErrors.WriteAsync(context, adapter, call, failure, FailureMessage(failure, attempt.UpstreamStatus)).ConfigureAwait(false);
            return;
        }
        await RespondAsync(context, adapter, call, plan, attempt, providerKey.Value).ConfigureAwait(false);
    }

    /// <summary>
    /// A route with several provider keys (a pool, or a tenant's key with the platform's as fallback): the members in
    /// <see cref="MemberOrder"/>, passing by a member whose circuit is open (<see cref="ProviderKeyCircuits"/>) or whose
    /// own limit refuses, and ONE attempt each (no retries: the next member is the retry) until one answers with
    /// something the client may see. Connection failure, timeout before headers, 429, 5xx and a refusal of the member's
    /// key move on to the next member, all before the client's first byte. Every failed attempt is an audit row of its
    /// own naming its member (<see cref="RelayCall.FailedAttempt"/>); the call's row is the attempt that answered.
    /// Nobody served: the last attempt's failure (502/504; a 429 of the provider's: 429 <c>provider_keys_busy</c>), or,
    /// when no member could be tried at all because every one was resting, 429 <c>provider_keys_busy</c>; both with the
    /// soonest member's Retry-After.
    /// </summary>
    private async Task FailOverAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, ProviderRoute route, string path)
    {
        if (await RefuseUnsendableHeaderAsync(context, adapter, call).ConfigureAwait(false))
            return;
        var aborted = context.RequestAborted;
        var query = UpstreamRequestFactory.FilterQuery(context.Request, adapter);
        var tries = new List<FailedTry>(route.Members.Count);
        var rowsOwned = 0; // how many of the tries' rows are already enqueued
        TimeSpan? soonest = null;
        FuncKeyOpsError? missing = null;
        try
        {
            foreach (var member in MemberOrder.For(route, Random.Shared.Next))
            {
                var name = member.Key.Name;
                var circuit = circuits.For(name);
                if (circuit.Resting() is { } resting)
                {
                    soonest = Soonest(soonest, resting);
                    LogMemberSkipped(logger, call.RequestId, name, "its circuit is open");
                    continue;
                }
                var limit = await limiter.TryAcquireAsync(member.Key, aborted).ConfigureAwait(false);
                if (!limit.Allowed)
                {
                    soonest = Soonest(soonest, limit.RetryAfter ?? OneSecond);
                    LogMemberSkipped(logger, call.RequestId, name, "its rate limit is reached");
                    continue;
                }
                ProviderKeyResolution resolution;
                try
                {
                    resolution = await providerKeys.ResolveAsync(member.Key, aborted).ConfigureAwait(false);
                }
                catch (SecretStoreException e)
                {
                    LogProviderKeyUnavailable(logger, call.RequestId, e.Status);
                    missing = FuncKeyOpsErrors.ProviderKeyUnavailable;
                    continue;
                }
                if (resolution.Key is not { } providerKey)
                {
                    missing = resolution.Missing;
                    LogMemberSkipped(logger, call.RequestId, name, "it has no active version");
                    continue;
                }
                // The deployment is the member's own; the audited model stays the client's.
                if (!UpstreamPath.TryBuild(member.Key.BaseUrl, DeploymentPath.Map(path, member.Deployments), query, out var upstreamUri))
                {
                    await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidPath).ConfigureAwait(false);
                    return;
                }

                call.ProviderKeyName = name;
                call.ProviderKeyVersion = providerKey.Version;
                var attempt = await AttemptAsync(context, adapter, call, plan, upstreamUri!, providerKey.Value, circuit).ConfigureAwait(false);
                if (!attempt.WasSent)
                {
                    soonest = Soonest(soonest, circuit.Resting() ?? OneSecond);
                    LogMemberSkipped(logger, call.RequestId, name, "its circuit is open");
                    continue;
                }
                if (attempt.Failure is { } failure)
                {
                    if (failure == FuncKeyOpsErrors.ProviderKeysBusy)
                        soonest = Soonest(soonest, attempt.RetryAfter ?? circuit.Resting() ?? OneSecond);
                    tries.Add(new FailedTry(name, providerKey.Version, failure, attempt.UpstreamStatus, time.GetElapsedTime(call.Started)));
                    LogMemberFailed(logger, call.RequestId, name, providerKey.Version, failure.Code, attempt.UpstreamStatus);
                    continue;
                }

                call.ServingKey = member.Key;
                call.Attempt = tries.Count > 0 ? tries.Count + 1 : null;
                rowsOwned = EnqueueTries(call, tries, rowsOwned, tries.Count);
                await RespondAsync(context, adapter, call, plan, attempt, providerKey.Value).ConfigureAwait(false);
                return;
            }

            if (tries.Count == 0)
            {
                call.ProviderKeyName = call.ProviderKeyVersion = null;
                if (soonest is { } wait)
                    await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.ProviderKeysBusy, retryAfter: wait).ConfigureAwait(false);
                else
                    await RelayErrors.WriteAsync(context, adapter, call, missing ?? FuncKeyOpsErrors.NoActiveProviderKey).ConfigureAwait(false);
                return;
            }
            // The last attempt is the call's own row: it is the answer the client gets.
            rowsOwned = EnqueueTries(call, tries, rowsOwned, tries.Count - 1);
            var last = tries[^1];
            (call.ProviderKeyName, call.ProviderKeyVersion, call.UpstreamStatus) = (last.ProviderKeyName, last.Version, last.UpstreamStatus);
            call.Attempt = tries.Count > 1 ? tries.Count : null;
            rowsOwned = tries.Count;
            await RelayErrors.WriteAsync(context, adapter, call, last.Failure, FailureMessage(last.Failure, last.UpstreamStatus),
                last.Failure == FuncKeyOpsErrors.ProviderKeysBusy ? soonest ?? OneSecond : null).ConfigureAwait(false);
        }
        finally
        {
            // The client gone (or the relay failing) mid-failover: the attempts already made are still audited.
            EnqueueTries(call, tries, rowsOwned, tries.Count);
        }
    }

    /// <summary>Enqueues the rows of tries [<paramref name="from"/>, <paramref name="to"/>) as attempts 1, 2, ...; returns <paramref name="to"/>.</summary>
    private int EnqueueTries(RelayCall call, List<FailedTry> tries, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var tried = tries[i];
            audit.Enqueue(call.FailedAttempt(i + 1, tried.ProviderKeyName, tried.Version, tried.Failure, tried.UpstreamStatus, tried.Latency));
        }
        return Math.Max(from, to);
    }

    private static TimeSpan Soonest(TimeSpan? soonest, TimeSpan wait) => soonest is { } known && known <= wait ? known : wait;

    private static string? FailureMessage(FuncKeyOpsError failure, int? upstreamStatus) =>
        failure == FuncKeyOpsErrors.UpstreamError ? $"The provider failed with status {upstreamStatus}." : null;

    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>A pool member's attempt that failed before the client's first byte, for its audit row.</summary>
    private readonly record struct FailedTry(string ProviderKeyName, string Version, FuncKeyOpsError Failure, int? UpstreamStatus, TimeSpan Latency);

    /// <summary>Before sending: a request that cannot be built is the client's error, not an attempt at the provider.</summary>
    private static async ValueTask<bool> RefuseUnsendableHeaderAsync(HttpContext context, IProviderAdapter adapter, RelayCall call)
    {
        if (UpstreamRequestFactory.FindUnsendableHeader(context.Request, adapter) is not { } header)
            return false;
        await RelayErrors.WriteAsync(context, adapter, call, FuncKeyOpsErrors.InvalidHeader,
            $"The {header} header has characters that cannot be forwarded: only visible ASCII, space and tab.").ConfigureAwait(false);
        return true;
    }

    /// <summary>Relays the answer an attempt got (headers already in): a 4xx as read, else streamed, with its usage read on the way.</summary>
    private async Task RespondAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, UpstreamAttempt attempt, string providerKeyValue)
    {
        using (var response = attempt.Response!)
        {
            call.Status = (int)response.StatusCode;
            if (attempt.ErrorBody is { } error)
            {
                // Some providers quote the rejected key in error details: never let ours reach the client.
                await UpstreamErrorBody.WriteRedactedAsync(error, response, context.Response, providerKeyValue, context.RequestAborted).ConfigureAwait(false);
                return;
            }
            var isEventStream = IsEventStream(response);
            var filter = isEventStream && plan.StripUsageOnlyChunk;
            ResponseHeaders.Copy(response, context.Response, dropContentLength: filter);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await context.Response.StartAsync(context.RequestAborted).ConfigureAwait(false);

            var usage = adapter.CreateUsageReader(plan);
            await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            try
            {
                await ResponseStreamer.CopyAsync(stream, context.Response.Body, isEventStream, filter, usage, _options.StreamIdleTimeout, time, context.RequestAborted).ConfigureAwait(false);
            }
            catch (UpstreamStalledException e)
            {
                // Not a relay failure: a provider fault, like a broken stream, whose connection the cancelled read closed.
                call.ErrorCode = FuncKeyOpsErrors.UpstreamStalled.Code;
                LogUpstreamStalled(logger, call.RequestId, call.Provider, call.ProviderKeyName, e.IdleTimeout);
                context.Abort(); // the client must see a broken stream, not a clean end
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !context.RequestAborted.IsCancellationRequested)
            {
                call.ErrorCode = FuncKeyOpsErrors.UpstreamStreamBroken.Code;
                throw;
            }
            finally
            {
                call.InputTokens = usage.Usage.InputTokens;
                call.OutputTokens = usage.Usage.OutputTokens;
            }
        }
    }

    /// <summary>
    /// Sends the call with one provider key value (with the upstream client's own retries) and reads as much of the
    /// answer as decides whether it reaches the client: its headers, and a 4xx's body, which may be a key refusal.
    /// </summary>
    // Pooled: every call makes at least one attempt, and the hot path should not pay a state machine box for it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<UpstreamAttempt> AttemptAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, Uri upstreamUri, string providerKey,
        ProviderKeyCircuits.MemberCircuit? circuit)
    {
        HttpResponseMessage response;
        try
        {
            HttpRequestMessage Build() => UpstreamRequestFactory.Create(context.Request, adapter, upstreamUri, plan.UpstreamBody, providerKey);
            response = circuit is null
                ? await upstream.SendAsync(Build, context.RequestAborted).ConfigureAwait(false)
                : await circuit.SendAsync(token => upstream.SendOnceAsync(Build, token), context.RequestAborted).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            return UpstreamAttempt.NotSent;
        }
        catch (TimeoutRejectedException)
        {
            return UpstreamAttempt.Failed(FuncKeyOpsErrors.UpstreamTimeout);
        }
        catch (HttpRequestException e)
        {
            LogUpstreamUnreachable(logger, call.RequestId, e.HttpRequestError);
            return UpstreamAttempt.Failed(FuncKeyOpsErrors.UpstreamUnreachable);
        }

        var status = (int)response.StatusCode;
        var relayed = false; // whatever is not handed to the caller is disposed here, also on a cancelled read
        try
        {
            // Also for a stream, which has sent nothing yet.
            if (status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden)
                return RejectProviderKey(call, status);
            // A pool member's 429 is the member's, not the call's: the next member may serve.
            if (circuit is not null && status == StatusCodes.Status429TooManyRequests)
                return UpstreamAttempt.Failed(FuncKeyOpsErrors.ProviderKeysBusy, status) with { RetryAfter = UpstreamClient.RetryAfter(response) };
            // Retries are spent: one clear gateway error rather than whatever the provider's failure page was.
            if (status >= 500)
                return UpstreamAttempt.Failed(FuncKeyOpsErrors.UpstreamError, status);
            byte[]? error = null;
            if (status >= 400 && !IsEventStream(response))
            {
                try
                {
                    error = await UpstreamErrorBody.ReadAsync(response, _options.StreamIdleTimeout, time, context.RequestAborted).ConfigureAwait(false);
                }
                catch (UpstreamStalledException e)
                {
                    // Nothing has reached the client yet, so it gets a gateway timeout rather than a broken stream.
                    LogUpstreamStalled(logger, call.RequestId, call.Provider, call.ProviderKeyName, e.IdleTimeout);
                    return UpstreamAttempt.Failed(FuncKeyOpsErrors.UpstreamStalled, status);
                }
                if (adapter.IsProviderKeyRefusal(status, error))
                    return RejectProviderKey(call, status);
            }
            relayed = true;
            return new UpstreamAttempt(response, error, null, null);
        }
        finally
        {
            if (!relayed)
                response.Dispose();
        }
    }

    private static bool IsEventStream(HttpResponseMessage response) => response.Content.Headers.ContentType?.MediaType == "text/event-stream";

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

    /// <summary>
    /// The provider refused our key (revoked elsewhere, wrong value, lost access), not the client's: passed on, SDKs
    /// would tell the user their key is wrong. The audit row carries the code the anomaly sweep looks for; the
    /// provider's body stays here, it describes our account.
    /// </summary>
    private UpstreamAttempt RejectProviderKey(RelayCall call, int upstreamStatus)
    {
        LogProviderKeyRejected(logger, call.RequestId, call.ProviderKeyName, call.ProviderKeyVersion, upstreamStatus);
        return UpstreamAttempt.Failed(FuncKeyOpsErrors.ProviderKeyRejected, upstreamStatus);
    }

    private static string Truncate(string value, int max) => value.Length <= max ? value : value[..max];

    [LoggerMessage(Level = LogLevel.Error, Message = "Relay call {RequestId} failed")]
    private static partial void LogRelayFailed(ILogger logger, string requestId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay call {RequestId}: the client closed the connection")]
    private static partial void LogClientClosed(ILogger logger, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay call {RequestId}: the client's request was refused with {Status}: {Reason}")]
    private static partial void LogClientFault(ILogger logger, string requestId, int status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: provider key unavailable (vault status {Status})")]
    private static partial void LogProviderKeyUnavailable(ILogger logger, string requestId, int? status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: the provider key registry cannot be read ({Failure}) and its copy is past ProviderKeys:MaxStale")]
    private static partial void LogRegistryUnavailable(ILogger logger, string requestId, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: the provider refused provider key {ProviderKeyName} version {ProviderKeyVersion} with status {UpstreamStatus}")]
    private static partial void LogProviderKeyRejected(ILogger logger, string requestId, string? providerKeyName, string? providerKeyVersion, int upstreamStatus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: provider key {ProviderKeyName} version {ProviderKeyVersion} failed ({ErrorCode}); retrying once on version {OtherVersion}")]
    private static partial void LogRetryingOnOtherVersion(ILogger logger, string requestId, string? providerKeyName, string? providerKeyVersion, string errorCode, string otherVersion);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Relay call {RequestId}: provider key {ProviderKeyName} passed by: {Reason}")]
    private static partial void LogMemberSkipped(ILogger logger, string requestId, string providerKeyName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: provider key {ProviderKeyName} version {ProviderKeyVersion} failed ({ErrorCode}, upstream status {UpstreamStatus}); the route's next provider key, if any, is tried")]
    private static partial void LogMemberFailed(ILogger logger, string requestId, string providerKeyName, string providerKeyVersion, string errorCode, int? upstreamStatus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: upstream stalled, {Provider} (provider key {ProviderKeyName}) sent nothing for {IdleTimeout} mid-answer; the call was ended")]
    private static partial void LogUpstreamStalled(ILogger logger, string requestId, string provider, string? providerKeyName, TimeSpan idleTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay call {RequestId}: provider unreachable ({Error})")]
    private static partial void LogUpstreamUnreachable(ILogger logger, string requestId, HttpRequestError error);
}
