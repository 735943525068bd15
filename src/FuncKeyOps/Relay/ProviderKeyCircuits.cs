using System.Collections.Concurrent;
using System.Net;
using FuncKeyOps.Providers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FuncKeyOps.Relay;

/// <summary>
/// One Polly circuit breaker per provider key (by name) on this instance, for the members of routes with several keys:
/// what says the key itself is unwell opens it by failure ratio: 5xx, connection failures, timeouts, and 429s whose
/// rate-limit headers show the key's limit spent (<see cref="IProviderAdapter.IsKeyLimitSpent"/>). A 429 about one
/// request's size is that call's answer only, or one tenant's oversized calls would take a shared pool out for all; while open the relay passes the member by;
/// after the break one call probes it (half-open) and its success brings the member back. The break lasts the
/// provider's Retry-After when the failure that opened it carried one (429/503), else <see cref="MemberCircuitOptions.BreakDuration"/>,
/// never more than <see cref="MemberCircuitOptions.MaxBreakDuration"/>.
/// </summary>
public sealed partial class ProviderKeyCircuits(IOptions<RelayOptions> options, TimeProvider time, ILogger<ProviderKeyCircuits> logger)
{
    // The Retry-After of the attempt's answer, handed from the call to the break-duration generator of the same execution.
    private static readonly ResiliencePropertyKey<TimeSpan> RetryAfterKey = new("fko.retry-after");

    // Set on a 429 that says the key's limit is spent, for ShouldHandle of the same execution (a shared boxed value: no allocation).
    private static readonly ResiliencePropertyKey<object> KeyLimitSpentKey = new("fko.key-limit-spent");
    private static readonly object Spent = new();

    private readonly MemberCircuitOptions _options = options.Value.Circuit;
    private readonly ConcurrentDictionary<string, MemberCircuit> _circuits = new(StringComparer.Ordinal);

    /// <summary>The circuit of the provider key named <paramref name="providerKeyName"/>, made on first use.</summary>
    public MemberCircuit For(string providerKeyName) => _circuits.GetOrAdd(providerKeyName, static (name, self) => self.Create(name), this);

    private MemberCircuit Create(string name)
    {
        var state = new CircuitBreakerStateProvider();
        MemberCircuit? circuit = null;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = _options.FailureRatio,
                MinimumThroughput = _options.MinimumThroughput,
                SamplingDuration = _options.SamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = state,
                ShouldHandle = static args => ValueTask.FromResult(IsFailure(args.Outcome, args.Context)),
                BreakDurationGenerator = args => ValueTask.FromResult(BreakFor(name, args.Context)),
                OnOpened = args =>
                {
                    circuit!.OpenUntil(time.GetUtcNow() + args.BreakDuration);
                    LogOpened(logger, name, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    LogClosed(logger, name);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        return circuit = new MemberCircuit(pipeline, state, time);
    }

    /// <summary>
    /// A failed attempt for the breaker: the member, not the call, is at fault. A key refusal (401/403) is not: rotation
    /// alerts count those. Nor is a 429 about the request alone.
    /// </summary>
    private static bool IsFailure(Outcome<HttpResponseMessage> outcome, ResilienceContext context) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => (int)response.StatusCode >= 500
            || (response.StatusCode == HttpStatusCode.TooManyRequests && context.Properties.TryGetValue(KeyLimitSpentKey, out _)),
        _ => false,
    };

    private TimeSpan BreakFor(string name, ResilienceContext context)
    {
        if (!context.Properties.TryGetValue(RetryAfterKey, out var retryAfter))
            return _options.BreakDuration;
        if (retryAfter <= _options.MaxBreakDuration)
            return retryAfter;
        LogRetryAfterCapped(logger, name, retryAfter, _options.MaxBreakDuration);
        return _options.MaxBreakDuration;
    }

    /// <summary>One provider key's breaker, and when its current break ends (for the soonest Retry-After of a refusal).</summary>
    public sealed class MemberCircuit
    {
        private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
        private readonly CircuitBreakerStateProvider _state;
        private readonly TimeProvider _time;
        private long _openUntilTicks;

        internal MemberCircuit(ResiliencePipeline<HttpResponseMessage> pipeline, CircuitBreakerStateProvider state, TimeProvider time)
        {
            _pipeline = pipeline;
            _state = state;
            _time = time;
        }

        /// <summary>
        /// How long the member is still out, or null when a call may go to it: closed, or open past its break (the call
        /// is then the half-open probe). Polly moves to half-open only when a call arrives, so an open circuit whose
        /// break has ended must be tried, not passed by. A probe under way keeps the member out for a second.
        /// </summary>
        public TimeSpan? Resting()
        {
            var state = _state.CircuitState;
            if (state == CircuitState.Closed)
                return null;
            var left = new DateTimeOffset(Interlocked.Read(ref _openUntilTicks), TimeSpan.Zero) - _time.GetUtcNow();
            return state switch
            {
                CircuitState.Open when left > TimeSpan.Zero => left,
                CircuitState.Open => null,
                _ => left > TimeSpan.Zero ? left : TimeSpan.FromSeconds(1),
            };
        }

        /// <summary>
        /// Sends through the breaker, which records the outcome. Throws <see cref="BrokenCircuitException"/> without
        /// sending when the circuit will not let the call through (another call took the probe).
        /// </summary>
        /// <param name="adapter">The provider's, which says whether a 429 is the key's (<see cref="IProviderAdapter.IsKeyLimitSpent"/>).</param>
        public async ValueTask<HttpResponseMessage> SendAsync(Func<CancellationToken, ValueTask<HttpResponseMessage>> send, IProviderAdapter adapter, CancellationToken cancellationToken)
        {
            var context = ResilienceContextPool.Shared.Get(cancellationToken);
            try
            {
                return await _pipeline.ExecuteAsync(static async (context, state) =>
                {
                    var response = await state.send(context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
                    if (response.StatusCode == HttpStatusCode.TooManyRequests && state.adapter.IsKeyLimitSpent(response))
                        context.Properties.Set(KeyLimitSpentKey, Spent);
                    if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
                        && RetryAfterHeader.From(response, state.time) is { } retryAfter)
                        context.Properties.Set(RetryAfterKey, retryAfter);
                    return response;
                }, context, (send, adapter, time: _time)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }

        internal void OpenUntil(DateTimeOffset until) => Interlocked.Exchange(ref _openUntilTicks, until.UtcTicks);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider key {ProviderKeyName} is taken out of its pool for {BreakDuration} (circuit open)")]
    private static partial void LogOpened(ILogger logger, string providerKeyName, TimeSpan breakDuration);

    [LoggerMessage(Level = LogLevel.Information, Message = "Provider key {ProviderKeyName} is back in its pool (circuit closed)")]
    private static partial void LogClosed(ILogger logger, string providerKeyName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider key {ProviderKeyName}: the provider asked for Retry-After {RetryAfter}; the member is taken out for Relay:Circuit:MaxBreakDuration ({MaxBreakDuration}) only")]
    private static partial void LogRetryAfterCapped(ILogger logger, string providerKeyName, TimeSpan retryAfter, TimeSpan maxBreakDuration);
}
