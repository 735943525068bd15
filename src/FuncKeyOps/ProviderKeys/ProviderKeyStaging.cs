using System.Security.Cryptography;
using System.Text;
using FuncKeyOps.Errors;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// Adds a version to a provider key's secret, tagged pending: it serves nothing until activated. With
/// <c>activate</c> the value is validated before it is stored, so a value the provider refuses never reaches the vault.
/// A <c>providerKeyId</c> is recorded only once the key's connector confirmed it names this value's key at the
/// provider: every later revoke acts on it.
/// </summary>
public sealed class ProviderKeyStaging(ProviderKeyRegistry registry, ISecretStore store, ProviderKeyValidator validator, ProviderKeyActivation activation,
    IEnumerable<IKeyConnector> connectors)
{
    public async Task<StagingResult> StageAsync(ProviderKeyConfig config, string value, string? providerKeyId, bool activate, CancellationToken cancellationToken)
    {
        // A rotation owns the weights until it ends: said first, as nothing else about the value matters until then.
        if (activate && await activation.RunningRotationAsync(config.Name, cancellationToken).ConfigureAwait(false) is { } running)
            return new StagingResult(null, running);
        if (await VersionWithValueAsync(config, value, cancellationToken).ConfigureAwait(false) is { } existing)
            return new StagingResult(null, null, new StagingRefusal(FuncKeyOpsErrors.ValueExists,
                $"Version {existing} of '{config.Name}' already has this value: staging it again would have a rotation replace that key with itself, then revoke it. Nothing was stored."));
        if (!string.IsNullOrWhiteSpace(providerKeyId))
        {
            var confirmation = await ConfirmKeyIdAsync(config, value, providerKeyId.Trim(), cancellationToken).ConfigureAwait(false);
            if (confirmation.Verdict != KeyIdVerdict.Confirmed)
                return new StagingResult(null, null, new StagingRefusal(
                    confirmation.Verdict == KeyIdVerdict.Refused ? FuncKeyOpsErrors.ProviderKeyIdRefused : FuncKeyOpsErrors.ProviderKeyIdUnconfirmed,
                    $"{confirmation.Detail} Nothing was stored."));
            providerKeyId = confirmation.ProviderKeyId;
        }

        ProviderKeyValidation? validation = null;
        if (activate)
        {
            validation = await validator.ValidateAsync(config, value, cancellationToken).ConfigureAwait(false);
            if (validation.Verdict != ProviderKeyVerdict.Accepted)
                return new StagingResult(null, new ActivationResult(
                    validation.Verdict == ProviderKeyVerdict.Rejected ? ActivationOutcome.Rejected : ActivationOutcome.ValidationFailed, validation));
        }

        await PinServingVersionAsync(config, cancellationToken).ConfigureAwait(false);
        var tags = new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Pending.ToTag() };
        if (!string.IsNullOrWhiteSpace(providerKeyId))
            tags[SecretTags.ProviderKeyId] = providerKeyId;
        var stored = await store.SetAsync(config.SecretName, value, tags, cancellationToken).ConfigureAwait(false);
        if (!activate)
            return new StagingResult(stored.Version, null);
        var activated = await activation.ActivateValidatedAsync(config, stored.Version, validation!, cancellationToken).ConfigureAwait(false);
        return new StagingResult(stored.Version, activated);
    }

    /// <summary>
    /// The enabled version whose value is <paramref name="value"/>, if any (compared in constant time, in memory only).
    /// Disabled versions cannot be read, and a revoked value the provider no longer accepts fails validation anyway.
    /// </summary>
    private async Task<string?> VersionWithValueAsync(ProviderKeyConfig config, string value, CancellationToken cancellationToken)
    {
        IReadOnlyList<SecretVersionInfo> versions;
        try
        {
            versions = await store.ListVersionsAsync(config.SecretName, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            return null;
        }
        var wanted = Encoding.UTF8.GetBytes(value);
        foreach (var version in versions.Where(v => v.Enabled))
        {
            var stored = await store.GetAsync(config.SecretName, version.Version, cancellationToken).ConfigureAwait(false);
            if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(stored.Value), wanted))
                return version.Version;
        }
        return null;
    }

    /// <summary>What the key's connector says of the id; with no such connector there is nobody to ask, so it is refused.</summary>
    public Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig config, string value, string providerKeyId, CancellationToken cancellationToken) =>
        connectors.FirstOrDefault(c => c.Name == config.Connector) is { } connector
            ? connector.ConfirmKeyIdAsync(config, value, providerKeyId, cancellationToken)
            : Task.FromResult(KeyIdConfirmation.Refused($"No connector named '{config.Connector}' is registered to confirm the providerKeyId."));

    /// <summary>
    /// A row without weights serves its latest version while that is tagged active; the new version is about to
    /// become the latest. Written before the new version, so that a crash in between leaves traffic where it was.
    /// </summary>
    internal async Task PinServingVersionAsync(ProviderKeyConfig config, CancellationToken cancellationToken)
    {
        if (config.Weights.Count > 0)
            return;
        SecretVersionInfo latest;
        try
        {
            // The vault's own idea of latest (version listings only carry creation times to the second).
            latest = (await store.GetAsync(config.SecretName, null, cancellationToken).ConfigureAwait(false)).Info;
        }
        catch (SecretNotFoundException)
        {
            return;
        }
        if (ProviderKeyResolver.IsActive(latest))
            await registry.SetWeightsAsync(config.Name, new Dictionary<string, int> { [latest.Version] = ProviderKeyActivation.FullWeight }, cancellationToken).ConfigureAwait(false);
    }
}
