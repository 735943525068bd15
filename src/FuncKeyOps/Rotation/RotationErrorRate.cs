using FuncKeyOps.Audit;

namespace FuncKeyOps.Rotation;

/// <summary>What the analyze step reads: the new version's calls since its last shift, from the audit rows.</summary>
public sealed class RotationErrorRate(AuditQuery audit)
{
    /// <summary>
    /// A call failed when the relay answered 5xx or the provider refused the key (401/403 upstream, which the relay
    /// may have answered from the other version after its retry): both say the new key is not fit to serve.
    /// </summary>
    public static bool IsError(AuditRecord row) => row.Status >= 500 || row.UpstreamStatus is 401 or 403;

    public async Task<(int Calls, int Errors)> MeasureAsync(string keyName, string version, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        if (until <= since)
            return (0, 0);
        // One read of the window (the query has no version filter); a hold's worth of one key's traffic fits the limit
        // at the rates a relay instance serves, and when it does not, the earliest rows are still a fair sample.
        var rows = await audit.QueryAsync(since, until, limit: AuditQuery.MaxLimit, cancellationToken: cancellationToken).ConfigureAwait(false);
        var mine = rows.Where(r => r.ProviderKeyName == keyName && r.ProviderKeyVersion == version).ToList();
        return (mine.Count, mine.Count(IsError));
    }
}
