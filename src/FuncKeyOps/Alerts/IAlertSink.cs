namespace FuncKeyOps.Alerts;

/// <summary>
/// Where alerts go: a webhook whose URL is in Key Vault, or the log when none is configured. Deduplicated by
/// <see cref="Alert.DedupeKey"/>, so a caller may publish the same alert again after a crash or a re-run step.
/// </summary>
public interface IAlertSink
{
    Task PublishAsync(Alert alert, CancellationToken cancellationToken);
}
