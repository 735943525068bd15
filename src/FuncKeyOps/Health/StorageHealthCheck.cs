using FuncKeyOps.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FuncKeyOps.Health;

/// <summary>Storage is reachable when one page of the table list comes back.</summary>
public sealed class StorageHealthCheck(TableStore tables) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (var _ in tables.Service.QueryAsync(maxPerPage: 1, cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
                break;
            return HealthCheckResult.Healthy("Table Storage reachable");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Table Storage unreachable: {e.GetType().Name}");
        }
    }
}
