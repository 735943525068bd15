using System.Security.Cryptography;
using System.Text;
using Azure;
using FuncKeyOps.Admin;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// The admin-trail rows of the sweep's actions (actor <see cref="Actor"/>), beside the admins' own: a suspension is
/// recorded as the admin call that makes it would be (<c>POST relay-keys/{id}/suspend</c>, the key as target), a
/// rotation likewise (<c>POST provider-keys/{name}/rotations</c>), an alert as <c>POST findings/{id}/alert</c>. So
/// <c>GET admin-events</c> shows who suspended a key, the sweep or an admin, and the admin's resume after it.
/// </summary>
internal sealed partial class SweepTrail(AdminEventStore store, ILogger<SweepTrail> logger)
{
    public const string Actor = "sweep";
    public const string SuspendRoute = "relay-keys/{id}/suspend";
    public const string RotateRoute = "provider-keys/{name}/rotations";
    public const string AlertRoute = "findings/{id}/alert";

    /// <summary>
    /// Records one action of one finding. Its row's id and time come from the finding and the action's first attempt,
    /// so a retry after a crash that had already recorded it finds the row there and adds none. Never throws for
    /// storage: the action has happened; a row that cannot be stored goes to the log at Error, whole, like the admin trail's.
    /// </summary>
    public async Task RecordAsync(Finding finding, string route, string target, int status, string? errorCode, DateTimeOffset time,
        CancellationToken cancellationToken)
    {
        var adminEvent = new AdminEvent
        {
            Id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(finding.Id + "|" + route)))[..32],
            Time = time,
            Actor = Actor,
            Method = "POST",
            Route = route,
            Target = target,
            Status = status,
            ErrorCode = errorCode,
        };
        try
        {
            await store.AppendAsync(adminEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Recorded by an attempt that crashed before recording its outcome on the finding.
        }
        catch (Exception e) when (e is RequestFailedException || StorageFailure.Is(e))
        {
            LogNotStored(logger, finding.Id, route, target, status, errorCode, time, e.GetType().Name);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin event not stored: sweep POST {Route} target {Target} for finding {FindingId} answered {Status} {ErrorCode} at {Time:O} ({ErrorType})")]
    private static partial void LogNotStored(ILogger logger, string findingId, string route, string target, int status, string? errorCode, DateTimeOffset time, string errorType);
}
