using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Relay;

public sealed partial class RelayHandler
{
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
