using FuncKeyOps.Errors;

namespace FuncKeyOps.Relay;

/// <summary>
/// One provider key version's attempt at the provider, up to its response headers (and an error answer's body):
/// nothing has reached the client yet. Either a response to relay (<see cref="ErrorBody"/> already read when it is a
/// 4xx the client gets as sent), or the <see cref="Failure"/> the relay answers in its place.
/// </summary>
internal readonly record struct UpstreamAttempt(HttpResponseMessage? Response, byte[]? ErrorBody, FuncKeyOpsError? Failure, int? UpstreamStatus)
{
    public static UpstreamAttempt Failed(FuncKeyOpsError failure, int? upstreamStatus = null) => new(null, null, failure, upstreamStatus);

    /// <summary>A pool member's circuit did not let the call through (another call took its half-open probe): nothing was sent.</summary>
    public static UpstreamAttempt NotSent { get; } = Failed(FuncKeyOpsErrors.ProviderKeysBusy);

    /// <summary>The provider's Retry-After on a pool member's 429 (<see cref="FuncKeyOpsErrors.ProviderKeysBusy"/>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    public bool WasSent => Failure != FuncKeyOpsErrors.ProviderKeysBusy || UpstreamStatus is not null;

    /// <summary>
    /// Failures the other version may not share: this version's key refused, or the provider not reached with it
    /// before the first byte (its own retries spent). A 5xx or a stall is the provider's, whichever key is sent.
    /// </summary>
    public bool MayRetryOnOtherVersion =>
        Failure == FuncKeyOpsErrors.ProviderKeyRejected || Failure == FuncKeyOpsErrors.UpstreamUnreachable || Failure == FuncKeyOpsErrors.UpstreamTimeout;
}
