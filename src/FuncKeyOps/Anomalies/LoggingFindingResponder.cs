using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Anomalies;

/// <summary>
/// The <see cref="IFindingResponder"/> used until a host registers the real one (a store, actions, alerts): it logs each
/// finding and keeps nothing, so the sweep runs on its own. A re-swept window logs its findings again.
/// </summary>
internal sealed partial class LoggingFindingResponder(ILogger<LoggingFindingResponder> logger) : IFindingResponder
{
    public Task<Finding> RespondAsync(Finding finding, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(finding);
        LogFinding(logger, finding.Id, finding.Detector, finding.Severity, finding.Subject, finding.Summary);
        return Task.FromResult(finding);
    }

    public Task RetryPendingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anomaly finding {Id}: {Detector} ({Severity}) on {Subject}: {Summary}")]
    private static partial void LogFinding(ILogger logger, string id, string detector, FindingSeverity severity, string subject, string summary);
}
