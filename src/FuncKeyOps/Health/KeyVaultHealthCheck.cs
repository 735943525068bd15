using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FuncKeyOps.Health;

/// <summary>The vault is reachable and lets us in when one page of secret metadata (never values) comes back.</summary>
public sealed class KeyVaultHealthCheck(SecretClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await foreach (var _ in client.GetPropertiesOfSecretsAsync(cancellationToken).AsPages(pageSizeHint: 1).ConfigureAwait(false))
                break;
            return HealthCheckResult.Healthy("Key Vault reachable");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"Key Vault unreachable: {e.GetType().Name}");
        }
    }
}
