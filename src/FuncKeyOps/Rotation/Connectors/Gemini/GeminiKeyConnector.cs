using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation.Connectors.Gemini;

/// <summary>
/// Rotates a Gemini API key through Google's API Keys API v2 (apikeys.googleapis.com).
/// </summary>
/// <remarks>
/// Facts relied on (API Keys v2 reference): <c>POST v2/projects/{project}/locations/global/keys?keyId={id}</c> creates a
/// key under a caller-chosen id (<c>[a-z]([a-z0-9-]{0,61}[a-z0-9])?</c>) and answers a long-running operation
/// (<c>{name, done, response: Key}</c>, polled with <c>GET v2/{operation name}</c>); a taken id is 409 ALREADY_EXISTS
/// (deleted keys keep their id for 30 days, with <c>deleteTime</c> set); <c>GET v2/{key name}</c> gives the key without
/// its value, <c>GET v2/{key name}/keyString</c> its value; <c>DELETE v2/{key name}</c> is an operation too.
/// <c>restrictions.apiTargets[].service</c> limits the APIs the key calls, <c>restrictions.serverKeyRestrictions.allowedIps</c>
/// the callers. Auth is an OAuth2 token of a service account (JWT bearer grant at its <c>token_uri</c>, scope cloud-platform).
/// Idempotency: the key id is derived from the provider key and rotation id, so a re-run meets 409 and reads the key it
/// made instead of making a second one. The provider key id tagged on the vault version is the key's resource name.
/// </remarks>
public sealed class GeminiKeyConnector(
    IHttpClientFactory httpClients,
    IHttpMessageHandlerFactory httpHandlers,
    ISecretStore secrets,
    TimeProvider time,
    ILogger<GeminiKeyConnector> logger) : IKeyConnector
{
    public const string ConnectorName = "gemini";

    /// <summary>The named HttpClient (with the standard resilience handler) the connector calls Google with.</summary>
    public const string HttpClientName = "FuncKeyOps.Connectors.Gemini";

    private const string SecretsRead = "the service-account secret (connectorSettings.serviceAccountSecret)";
    private const string GenerativeLanguageService = "generativelanguage.googleapis.com";

    public string Name => ConnectorName;

    public async Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var settings = GeminiSettings.Read(request.Key.ConnectorSettings);
            var client = await ConnectAsync(settings, cancellationToken);
            var keyId = KeyIdFor(request.Key.Name, request.RotationId);
            var name = await client.CreateAsync(settings.ProjectId, keyId, NewKey(request, settings), cancellationToken);
            if (name is null)
            {
                // 409: an earlier run of this rotation made the key; read it instead of making another.
                var existing = await client.GetAsync($"projects/{settings.ProjectId}/locations/global/keys/{keyId}", cancellationToken);
                if (existing?["name"]?.GetValue<string>() is not { } existingName || existing["deleteTime"] is not null)
                {
                    return ConnectorFailure.CreateFailed(
                        $"gemini: key {keyId} of this rotation exists but was deleted; start a new rotation", transient: false);
                }

                name = existingName;
                logger.LogInformation("gemini: key {KeyId} of rotation {RotationId} already exists, reading it", keyId, request.RotationId);
            }

            var value = await client.GetKeyStringAsync(name, cancellationToken);
            logger.LogInformation("gemini: key {KeyName} ready for provider key {ProviderKey}", name, request.Key.Name);
            return new ConnectorCreation(ConnectorCreateOutcome.Created, value, name);
        }
        catch (Exception e) when (ConnectorFailure.TryDescribe(e, ConnectorName, SecretsRead, out var detail, out var transient))
        {
            logger.LogWarning("gemini: create for {ProviderKey} failed: {Detail}", request.Key.Name, detail);
            return ConnectorFailure.CreateFailed(detail, transient);
        }
    }

    public async Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        if (version.ProviderKeyId is not { Length: > 0 } name || !name.StartsWith("projects/", StringComparison.Ordinal))
        {
            return ConnectorFailure.RevokeFailed("gemini: the version has no Google key name (providerKeyId): revoke it in the Google console", transient: false);
        }

        if (request.ServingProviderKeyIds.Contains(name, StringComparer.Ordinal))
        {
            return ConnectorFailure.RevokeFailed($"gemini: key {name} still serves; it is not deleted", transient: false);
        }

        try
        {
            var settings = GeminiSettings.Read(request.Key.ConnectorSettings);
            var client = await ConnectAsync(settings, cancellationToken);
            var deleted = await client.DeleteAsync(name, cancellationToken);
            logger.LogInformation("gemini: key {KeyName} {Outcome}", name, deleted ? "deleted" : "was already gone");
            return new ConnectorRevocation(deleted ? ConnectorRevokeOutcome.Revoked : ConnectorRevokeOutcome.AlreadyGone);
        }
        catch (Exception e) when (ConnectorFailure.TryDescribe(e, ConnectorName, SecretsRead, out var detail, out var transient))
        {
            logger.LogWarning("gemini: revoke of {KeyName} failed: {Detail}", name, detail);
            return ConnectorFailure.RevokeFailed(detail, transient);
        }
    }

    /// <summary>
    /// The id must be a key of the configured project (read there by its key id, so a name in another project is
    /// refused however it is spelled) whose <c>keyString</c> is the staged value. The key's own resource name is recorded.
    /// </summary>
    public async Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken)
    {
        var parts = providerKeyId.Split('/');
        if (parts is not ["projects", { Length: > 0 } project, "locations", "global", "keys", { Length: > 0 } keyId])
            return KeyIdConfirmation.Refused($"'{providerKeyId}' is not a Google API key name (projects/{{project}}/locations/global/keys/{{id}}).");
        try
        {
            var settings = GeminiSettings.Read(key.ConnectorSettings);
            var client = await ConnectAsync(settings, cancellationToken);
            var found = await client.GetAsync($"projects/{Uri.EscapeDataString(settings.ProjectId)}/locations/global/keys/{Uri.EscapeDataString(keyId)}", cancellationToken);
            // Google names keys by project number; a name given with the configured project id is the same key.
            if (found?["name"]?.GetValue<string>() is not { } name || found["deleteTime"] is not null
                || (name != providerKeyId && project != settings.ProjectId))
                return KeyIdConfirmation.Refused($"Project {settings.ProjectId} has no live API key {providerKeyId}.");
            var keyString = await client.GetKeyStringAsync(name, cancellationToken);
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(keyString), Encoding.UTF8.GetBytes(value))
                ? KeyIdConfirmation.Confirmed(name)
                : KeyIdConfirmation.Refused($"Google API key {name} is not the key of the staged value.");
        }
        catch (Exception e) when (ConnectorFailure.TryDescribe(e, ConnectorName, SecretsRead, out var detail, out var transient))
        {
            logger.LogWarning("gemini: confirming key {KeyName} failed: {Detail}", providerKeyId, detail);
            return KeyIdConfirmation.Failed(detail, transient);
        }
    }

    /// <summary>
    /// The Google key id for a rotation: <c>fko-</c>, then 32 hex digits of SHA-256(provider key name, rotation id), so
    /// the same rotation always names the same key and two provider keys never collide.
    /// </summary>
    internal static string KeyIdFor(string providerKeyName, string rotationId) =>
        "fko-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(providerKeyName + "\n" + rotationId)))[..32];

    private async Task<GoogleApiKeysClient> ConnectAsync(GeminiSettings settings, CancellationToken ct)
    {
        var serviceAccount = await secrets.GetAsync(settings.ServiceAccountSecret, cancellationToken: ct);
        var token = await GoogleServiceAccountToken.GetAsync(serviceAccount.Value, new GoogleHttpClientFactory(httpHandlers, HttpClientName), ct);
        return new GoogleApiKeysClient(httpClients.CreateClient(HttpClientName), settings.ApiKeysEndpoint, token, time);
    }

    private static JsonObject NewKey(ConnectorRequest request, GeminiSettings settings)
    {
        var restrictions = new JsonObject
        {
            ["apiTargets"] = new JsonArray(new JsonObject { ["service"] = GenerativeLanguageService }),
        };
        if (settings.AllowedIps.Count > 0)
        {
            restrictions["serverKeyRestrictions"] = new JsonObject
            {
                ["allowedIps"] = new JsonArray(settings.AllowedIps.Select(ip => (JsonNode?)ip).ToArray()),
            };
        }

        // Google caps displayName at 63 characters.
        var displayName = $"FuncKeyOps {request.Key.Name}";
        return new JsonObject
        {
            ["displayName"] = displayName[..Math.Min(displayName.Length, 63)],
            ["restrictions"] = restrictions,
        };
    }
}
