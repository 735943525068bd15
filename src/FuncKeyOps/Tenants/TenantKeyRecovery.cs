using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tenants;

/// <summary>
/// Runs <see cref="TenantKeyService.RecoverAsync"/> once when the host starts, so a restart finishes a tenant PUT that
/// stopped between activating its value and starting the revoke of the one it replaced.
/// </summary>
internal sealed partial class TenantKeyRecovery(TenantKeyService service, ILogger<TenantKeyRecovery> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await service.RecoverAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Not fatal: the next PUT of each key finishes its replacement the same way.
            LogFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not finish tenants' key replacements left by stopped PUTs; each key's next PUT finishes its own")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
