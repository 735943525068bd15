using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// Creates and revokes a provider key at its provider (DESIGN.md, Rotation: what each provider's API allows decides
/// what is automatic). One implementation per connector name: <c>openai</c>, <c>anthropic</c>, <c>gemini</c>,
/// <c>azure-openai</c>, <c>manual</c>. Credentials a connector needs are read from Key Vault by secret names in the
/// provider key's <c>connectorSettings</c>; a connector never logs or returns them.
/// </summary>
public interface IKeyConnector
{
    /// <summary>The name a provider key's <c>connector</c> field uses.</summary>
    string Name { get; }

    /// <summary>
    /// Makes a new key at the provider for this rotation, or answers <see cref="ConnectorCreateOutcome.AwaitingOperator"/>
    /// when the provider has no create API (the rotation then waits for a version staged through the admin API).
    /// Idempotent per <see cref="ConnectorRequest.RotationId"/>: a key this rotation already created at the provider is
    /// found (by the name the connector gave it) instead of created twice, or, when its value can no longer be read,
    /// deleted before a new one is made, and the result says so.
    /// </summary>
    Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Stops a version's key working at the provider (delete, deactivate, regenerate its slot), found by the
    /// provider-side id tagged on the version. Idempotent: a key already gone is success.
    /// </summary>
    Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken);

    /// <summary>
    /// Confirms, before a staged value's <paramref name="providerKeyId"/> is recorded, that the provider knows it as
    /// the id of the key whose value is <paramref name="value"/> (and of a key this provider key's settings own):
    /// the id is what revoke later acts on. Read-only at the provider; the value is compared in memory and never sent
    /// anywhere but where the provider's own admin API shows it.
    /// </summary>
    Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken);
}
