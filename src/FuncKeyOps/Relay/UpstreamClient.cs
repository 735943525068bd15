using System.Net;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Providers;
using FuncKeyOps.Routing;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace FuncKeyOps.Relay;

/// <summary>
/// Sends relayed requests upstream over one pooled <see cref="SocketsHttpHandler"/>, with jittered retries that honour
/// Retry-After. It returns as soon as response headers arrive, so every retry happens before the client sees a byte.
/// </summary>
public sealed class UpstreamClient : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly ResiliencePipeline<HttpResponseMessage> _once;

    public UpstreamClient(IOptions<RelayOptions> options, TimeProvider time, HttpMessageHandler? handler = null)
    {
        var relay = options.Value;
        _invoker = new HttpMessageInvoker(handler ?? CreateHandler(), disposeHandler: true);
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(relay.MaxRetries, 1), // Polly needs one; MaxRetries 0 is honoured by ShouldHandle
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = relay.RetryBaseDelay,
                ShouldHandle = args => ValueTask.FromResult(relay.MaxRetries > 0 && !args.Context.Properties.TryGetValue(CallOnlyKey, out _)
                    && ShouldRetry(args.Outcome, relay.MaxRetryAfter, time)),
                // Null lets the retry strategy use its own jittered backoff.
                DelayGenerator = args => ValueTask.FromResult(RetryAfterHeader.From(args.Outcome.Result, time)),
            })
            .AddTimeout(relay.UpstreamTimeout)
            .Build();
        _once = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }.AddTimeout(relay.UpstreamTimeout).Build();
    }

    /// <summary>
    /// Sends the request <paramref name="build"/> makes (called once per attempt, since a request message cannot be sent twice).
    /// Throws <see cref="TimeoutRejectedException"/> when headers did not arrive in time, <see cref="HttpRequestException"/>
    /// when the provider could not be reached.
    /// </summary>
    public ValueTask<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken) =>
        SendAsync(_pipeline, build, cancellationToken);

    /// <summary>
    /// As <see cref="SendAsync(Func{HttpRequestMessage}, CancellationToken)"/> for a relayed call with
    /// <paramref name="key"/>: the caller took the first send's permit; each retry takes its own from
    /// <paramref name="limiter"/> before it is sent, so a key's RPM counts requests, not calls. A retry refused
    /// throws <see cref="RetryNotAdmittedException"/> (nothing more is sent). A 429 about the request alone
    /// (<see cref="IProviderAdapter.IsKeyLimitSpent"/> false) is not retried: it would only be refused again.
    /// </summary>
    public async ValueTask<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> build, IProviderAdapter adapter, IProviderKeyLimiter limiter, ProviderKeyConfig key,
        CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (context, state) =>
                {
                    // The first send was admitted by the caller; the marker says a send has happened (a shared object: no allocation).
                    if (!context.Properties.TryGetValue(SentKey, out _))
                        context.Properties.Set(SentKey, Sent);
                    else if (await state.limiter.TryAcquireAsync(state.key, context.CancellationToken).ConfigureAwait(false) is { Allowed: false } refused)
                        throw new RetryNotAdmittedException(refused.RetryAfter);
                    using var request = state.build();
                    var response = await state.invoker.SendAsync(request, context.CancellationToken).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests && !state.adapter.IsKeyLimitSpent(response))
                        context.Properties.Set(CallOnlyKey, Sent);
                    return response;
                },
                context,
                (build, invoker: _invoker, adapter, limiter, key)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static readonly ResiliencePropertyKey<object> SentKey = new("fko.sent");
    private static readonly ResiliencePropertyKey<object> CallOnlyKey = new("fko.call-only-429");
    private static readonly object Sent = new();

    /// <summary>
    /// As <see cref="SendAsync(Func{HttpRequestMessage}, CancellationToken)"/> with no retries: one attempt within
    /// <see cref="RelayOptions.UpstreamTimeout"/>, for a pool member, whose retry is the next member.
    /// </summary>
    public ValueTask<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> build, CancellationToken cancellationToken) =>
        SendAsync(_once, build, cancellationToken);

    private ValueTask<HttpResponseMessage> SendAsync(ResiliencePipeline<HttpResponseMessage> pipeline, Func<HttpRequestMessage> build, CancellationToken cancellationToken) =>
        pipeline.ExecuteAsync(
            static async (state, token) =>
            {
                using var request = state.build();
                return await state.invoker.SendAsync(request, token).ConfigureAwait(false);
            },
            (build, invoker: _invoker),
            cancellationToken);

    public void Dispose() => _invoker.Dispose();

    // An HttpRequestException is retried as a transport failure. SocketsHttpHandler also throws one (with no inner
    // exception) for a header value it cannot encode, which no retry can fix: UpstreamRequestFactory never builds such
    // a request, and the relay refuses a client header the provider needs before the first attempt.
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, TimeSpan maxRetryAfter, TimeProvider time) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Result: { } response } when IsTransient(response.StatusCode) =>
            RetryAfterHeader.From(response, time) is not { } wait || wait <= maxRetryAfter,
        _ => false,
    };

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
            or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout || (int)status == 529;

    private static SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        EnableMultipleHttp2Connections = true,
    };
}
