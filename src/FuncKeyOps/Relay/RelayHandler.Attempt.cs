using System.Runtime.CompilerServices;
using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FuncKeyOps.Relay;

// One attempt at the provider with one key value, and relaying the answer it got.
public sealed partial class RelayHandler
{
    /// <summary>Relays the answer an attempt got (headers already in): a 4xx as read, else streamed, with its usage read on the way.</summary>
    private async Task RespondAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, UpstreamAttempt attempt, string providerKeyValue)
    {
        using (var response = attempt.Response!)
        {
            call.Status = (int)response.StatusCode;
            if (attempt.ErrorBody is { } error)
            {
                // Some providers quote the rejected key in error details: never let ours reach the client.
                await UpstreamErrorBody.WriteRedactedAsync(error, response, context.Response, providerKeyValue, time, _options.Circuit.MaxBreakDuration, context.RequestAborted).ConfigureAwait(false);
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
                await ResponseStreamer.CopyAsync(stream, context.Response.Body, isEventStream, filter, usage, _options.StreamIdleTimeout, time, call, context.RequestAborted).ConfigureAwait(false);
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
    /// <param name="limitedKey">The key whose own limit admitted this attempt's first send (<see cref="IProviderKeyLimiter"/>); each retry takes its own permit.</param>
    // Pooled: every call makes at least one attempt, and the hot path should not pay a state machine box for it.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<UpstreamAttempt> AttemptAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, RequestPlan plan, Uri upstreamUri, string providerKey,
        ProviderKeyConfig limitedKey, ProviderKeyCircuits.MemberCircuit? circuit)
    {
        HttpResponseMessage response;
        try
        {
            HttpRequestMessage Build() => UpstreamRequestFactory.Create(context.Request, adapter, upstreamUri, plan.UpstreamBody, providerKey);
            call.SentUpstream = true; // from here the provider may bill the call, whatever becomes of the answer
            // A pool member gets one send (the next member is its retry): the permit its caller took covers it.
            response = circuit is null
                ? await upstream.SendAsync(Build, adapter, limiter, limitedKey, context.RequestAborted).ConfigureAwait(false)
                : await circuit.SendAsync(token => upstream.SendOnceAsync(Build, token), adapter, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BrokenCircuitException)
        {
            return UpstreamAttempt.NotSent;
        }
        catch (RetryNotAdmittedException e)
        {
            LogMemberSkipped(logger, call.RequestId, limitedKey.Name, "its rate limit admits no retry");
            return UpstreamAttempt.Failed(FuncKeyOpsErrors.ProviderKeysBusy) with { RetryAfter = e.RetryAfter ?? OneSecond };
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
            // A pool member's 429 that says its limit is spent is the member's, not the call's: the next member may
            // serve. One about this request alone (too large for the key's per-minute tokens) is relayed as the call's
            // answer below: another member would only refuse it too, and no member is taken out for it.
            if (circuit is not null && status == StatusCodes.Status429TooManyRequests && adapter.IsKeyLimitSpent(response))
                return UpstreamAttempt.Failed(FuncKeyOpsErrors.ProviderKeysBusy, status) with { RetryAfter = RetryAfterHeader.From(response, time, _options.Circuit.MaxBreakDuration) };
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
    /// The provider refused our key (revoked elsewhere, wrong value, lost access), not the client's: passed on, SDKs
    /// would tell the user their key is wrong. The audit row carries the code the anomaly sweep looks for; the
    /// provider's body stays here, it describes our account.
    /// </summary>
    private UpstreamAttempt RejectProviderKey(RelayCall call, int upstreamStatus)
    {
        LogProviderKeyRejected(logger, call.RequestId, call.ProviderKeyName, call.ProviderKeyVersion, upstreamStatus);
        return UpstreamAttempt.Failed(FuncKeyOpsErrors.ProviderKeyRejected, upstreamStatus);
    }
}
