namespace FuncKeyOps.Relay;

/// <summary>
/// A retry the provider key's own limit did not admit (<see cref="Routing.IProviderKeyLimiter"/>): every upstream
/// request takes its own permit, so the retries end here and the call is answered 429 <c>provider_keys_busy</c>.
/// </summary>
internal sealed class RetryNotAdmittedException(TimeSpan? retryAfter) : Exception("The provider key's own limit admits no retry now.")
{
    public TimeSpan? RetryAfter { get; } = retryAfter;
}
