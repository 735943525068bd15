using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// For providers without an admin API the relay may use: an operator stages the new value (admin API or straight into
/// Key Vault) and deletes the old key at the provider when the rotation alerts them to.
/// </summary>
public sealed class ManualConnector : IKeyConnector
{
    public const string ConnectorName = "manual";

    public string Name => ConnectorName;

    public Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new ConnectorCreation(ConnectorCreateOutcome.AwaitingOperator, Detail: "stage the new value with POST provider-keys/{name}/versions"));

    /// <summary>Refuses a key named as serving: the answer would have the vault version disabled under its traffic.</summary>
    public Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken) =>
        Task.FromResult(version.ProviderKeyId is { } id && request.ServingProviderKeyIds.Contains(id, StringComparer.Ordinal)
            ? ConnectorFailure.RevokeFailed($"manual: key {id} still serves; the version is not disabled", transient: false)
            : new ConnectorRevocation(ConnectorRevokeOutcome.OperatorMustRevoke, "delete the key at the provider by hand"));

    /// <summary>
    /// Nothing here acts on the id at a provider (revoke disables the vault version and asks an operator to delete the
    /// key), so it is recorded as the operator's label for the key, shown back to them in the revoke alert.
    /// </summary>
    public Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken) =>
        Task.FromResult(KeyIdConfirmation.Confirmed(providerKeyId));
}
