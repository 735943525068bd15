using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Anomalies.Actions;

internal sealed partial class FindingResponder
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Finding {FindingId}: {Action} of {Subject} taken: {Outcome}")]
    private static partial void LogActionTaken(ILogger logger, string findingId, FindingAction action, string subject, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Finding {FindingId}: {Action} of {Subject} not taken: {Outcome}")]
    private static partial void LogActionSkipped(ILogger logger, string findingId, FindingAction action, string subject, string outcome);

    // The exception is not logged: a vault or connector failure may quote what it was handling.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Finding {FindingId}: {Action} of {Subject} failed on attempt {Attempt} ({ErrorType}); the next sweep tries again")]
    private static partial void LogActionFailed(ILogger logger, string findingId, FindingAction action, string subject, int attempt, string errorType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Finding {FindingId} ({Detector}, {Subject}) observed: Anomalies:Mode is observe, so its {Action} was not taken")]
    private static partial void LogObserved(ILogger logger, string findingId, string detector, string subject, FindingAction action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Finding {FindingId}: its alert could not be handed over ({ErrorType}); the next sweep tries again")]
    private static partial void LogAlertFailed(ILogger logger, string findingId, string errorType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Finding {FindingId} is stored but its action or alert could not be recorded ({ErrorType}); the next sweep finishes it")]
    private static partial void LogUnfinished(ILogger logger, string findingId, string errorType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The findings left unfinished could not be read ({ErrorType}); the next sweep tries again")]
    private static partial void LogRetryUnreadable(ILogger logger, string errorType);
}
