using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Rotation.Connectors;

/// <param name="Key">The provider key being rotated, with its <see cref="ProviderKeyConfig.ConnectorSettings"/>.</param>
/// <param name="RotationId">Names what the connector creates at the provider, so a re-run finds it instead of creating again.</param>
/// <param name="ServingProviderKeyIds">The provider-side ids of the versions carrying traffic now: never to be created over
/// or regenerated (Azure OpenAI's two slots).</param>
/// <param name="ContainedProviderKeyId">In an emergency rotation, the provider-side id of the compromised version its
/// containment took all weight from: nothing serves then, and the successor must not be made where the leaked key was
/// (Azure OpenAI: it is the other slot).</param>
public sealed record ConnectorRequest(ProviderKeyConfig Key, string RotationId, IReadOnlyList<string> ServingProviderKeyIds,
    string? ContainedProviderKeyId = null);

/// <param name="Version">The vault version being revoked.</param>
/// <param name="ProviderKeyId">Its provider-side id (tag <c>providerKeyId</c>); null when an operator staged it without one.</param>
public sealed record RevokedVersion(string Version, string? ProviderKeyId);
