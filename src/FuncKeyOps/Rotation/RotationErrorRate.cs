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

    private static readonly string[] Columns = [nameof(AuditRecord.Status), nameof(AuditRecord.UpstreamStatus)];

    /// <summary>
    /// Counts every call of the version in the window, read with a server-side filter on the key and version (two
    /// columns each, streamed): other keys' rows, however many, are not read, so none can push these out of the count.
    /// </summary>
    public async Task<(int Calls, int Errors)> MeasureAsync(string keyName, string version, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var (calls, errors) = (0, 0);
        await foreach (var row in audit.ProviderKeyVersionRowsAsync(since, until, keyName, version, Columns, cancellationToken).ConfigureAwait(false))
        {
            calls++;
            if (IsError(row.GetInt32(nameof(AuditRecord.Status)) ?? 0, row.GetInt32(nameof(AuditRecord.UpstreamStatus))))
                errors++;
        }
        return (calls, errors);
    }
}
