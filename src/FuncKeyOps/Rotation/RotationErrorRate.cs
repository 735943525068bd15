using FuncKeyOps.Audit;

namespace FuncKeyOps.Rotation;

/// <summary>What the analyze step reads: the new version's calls since its last shift, from the audit rows.</summary>
public sealed class RotationErrorRate(AuditQuery audit)
{
    /// <summary>
    /// A call failed when the relay answered 5xx or the provider refused the key (401/403 upstream, which the relay
    /// may have answered from the other version after its retry): both say the new key is not fit to serve.
    /// </summary>
    public static bool IsError(AuditRecord row) => IsError(row.Status, row.UpstreamStatus);

    private static bool IsError(int status, int? upstreamStatus) => status >= 500 || upstreamStatus is 401 or 403;

    /// <summary>
    /// Every call of the version in the window, however many other rows it holds: only that key's and version's rows
    /// are read (a server-side filter), so a flood of other calls during the hold cannot push them out of the count
    /// and pass the step as "too few calls".
    /// </summary>
    public async Task<(int Calls, int Errors)> MeasureAsync(string keyName, string version, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var (calls, errors) = (0, 0);
        await foreach (var (status, upstreamStatus) in audit.StatusesOfVersionAsync(since, until, keyName, version, cancellationToken).ConfigureAwait(false))
        {
            calls++;
            if (IsError(status, upstreamStatus))
                errors++;
        }
        return (calls, errors);
    }
}
