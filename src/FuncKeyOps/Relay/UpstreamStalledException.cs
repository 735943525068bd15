namespace FuncKeyOps.Relay;

/// <summary>The provider sent nothing for <c>Relay:StreamIdleTimeout</c> in the middle of a response body.</summary>
internal sealed class UpstreamStalledException(TimeSpan idleTimeout)
    : Exception($"The provider sent nothing for {idleTimeout} in the middle of its response.")
{
    public TimeSpan IdleTimeout { get; } = idleTimeout;
}
