using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Rotation.Connectors;

/// <param name="Key">The provider key being rotated, with its <see cref="ProviderKeyConfig.ConnectorSettings"/>.</param>
/// <param name="RotationId">Names what the connector creates at the provider, so a re-run finds it instead of creating again.</param>
/// <param name="ServingProviderKeyIds">The provider-side ids of the versions carrying traffic now: never to be created over
/// or regenerated (Azure OpenAI's two slots).</param>
public sealed record ConnectorRequest(ProviderKeyConfig Key, string RotationId, IReadOnlyList<string> ServingProviderKeyIds);

/// <param name="Version">The vault version being revoked.</param>
/// <param name="ProviderKeyId">Its provider-side id (tag <c>providerKeyId</c>); null when an operator staged it without one.</param>
public sealed record RevokedVersion(string Version, string? ProviderKeyId);
