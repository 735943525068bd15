using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;

namespace FuncKeyOps.Tenants;

/// <summary>
/// The connector of tenants' own keys. The platform holds no credential at the tenant's provider account, so it can
/// neither create a key (the tenant stores each value) nor delete one there: revoking a version means it is disabled in
/// Key Vault (the step runner's write after this answer), which is all the platform can and must do. No operator
/// alert: the key is the tenant's, and the tenant replaced it.
/// </summary>
public sealed class TenantKeyConnector : IKeyConnector
{
    public const string ConnectorName = "tenant";

    public string Name => ConnectorName;

    public Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new ConnectorCreation(ConnectorCreateOutcome.Failed, Detail: "a tenant's own key is replaced by the tenant (PUT /api/tenants/{tenant}/provider-keys/{provider})"));

    public Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken) =>
        Task.FromResult(new ConnectorRevocation(ConnectorRevokeOutcome.Revoked, "disabled in Key Vault; the key at the provider is the tenant's"));

    /// <summary>The platform never acts on a tenant's key at the provider, so the id is only a label.</summary>
    public Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(KeyIdConfirmation.Confirmed(providerKeyId));
}
