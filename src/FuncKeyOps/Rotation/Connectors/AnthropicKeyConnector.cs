using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// <c>anthropic</c>: Anthropic's Admin API cannot create keys, so create answers
/// <see cref="ConnectorCreateOutcome.AwaitingOperator"/> (an operator makes the key in the Console and stages it through
/// <c>POST provider-keys/{name}/versions</c>); revoke sets the old key <c>inactive</c>. What it relies on (API reference, Nov 2026):
/// <list type="bullet">
/// <item>Headers on every call: <c>x-api-key</c> with an organization admin key, and <c>anthropic-version: 2023-06-01</c>.</item>
/// <item><c>GET /v1/organizations/api_keys?limit=&amp;after_id=</c> answers <c>{data, has_more, last_id}</c>, each key
/// <c>{id, name, partial_key_hint, status: active|inactive|archived|expired}</c>: never a value.</item>
/// <item><c>GET /v1/organizations/api_keys/{api_key_id}</c> answers one key, 404 when there is none.</item>
/// <item><c>POST /v1/organizations/api_keys/{api_key_id}</c> <c>{status: "inactive"}</c> deactivates it; there is no create or delete.</item>
/// </list>
/// connectorSettings: <c>adminKeySecret</c>, optional <c>adminBaseUrl</c>. The version's key is found by its <c>providerKeyId</c>
/// tag, or, when an operator staged it without one, by the one listed key whose <c>partial_key_hint</c> fits the version's
/// value (<see cref="PartialKeyHint"/>); the value and the hints stay in memory and are never logged or returned.
/// </summary>
public sealed partial class AnthropicKeyConnector(IHttpClientFactory clients, ISecretStore secrets, ILogger<AnthropicKeyConnector> logger) : IKeyConnector
{
    public const string ConnectorName = "anthropic";
    public const string HttpClientName = "FuncKeyOps.Connectors.AnthropicAdmin";
    public const string ApiVersion = "2023-06-01";

    private const string Provider = "Anthropic";
    private const string KeysPath = "v1/organizations/api_keys";
    private const int PageSize = 1000;
    private const int MaxPages = 20;

    public string Name => ConnectorName;

    public Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(new ConnectorCreation(ConnectorCreateOutcome.AwaitingOperator, Detail:
            $"Anthropic's Admin API cannot create keys: create one in the Anthropic Console and stage it with POST provider-keys/{request.Key.Name}/versions."));

    public async Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        var (access, failure) = await AdminAccess.ReadAsync(request.Key, secrets, Provider, cancellationToken).ConfigureAwait(false);
        if (access is null)
            return Failed(request, version, failure!);
        var admin = new KeysAdmin(clients.CreateClient(HttpClientName), access);

        var keyId = version.ProviderKeyId;
        var foundBy = "its providerKeyId tag";
        if (keyId is null)
        {
            var (matched, matchFailure) = await FindByHintAsync(admin, request, version, cancellationToken).ConfigureAwait(false);
            if (matched is null)
                return Failed(request, version, matchFailure!);
            keyId = matched;
            foundBy = "its partial key hint";
        }

        if (request.ServingProviderKeyIds.Contains(keyId, StringComparer.Ordinal))
            return Failed(request, version, new AdminFailure($"Anthropic key {keyId} still serves; it is not deactivated.", false));

        var current = await admin.SendAsync(HttpMethod.Get, $"{KeysPath}/{Uri.EscapeDataString(keyId)}", null, "read an API key", cancellationToken).ConfigureAwait(false);
        if (current.Failure is null && version.ProviderKeyId is not null)
        {
            // A tag written straight into the vault was never confirmed: it must still fit the version's own value.
            var (value, readFailure) = await ReadValueAsync(request, version, cancellationToken).ConfigureAwait(false);
            if (value is null)
                return Failed(request, version, readFailure!);
            if (!PartialKeyHint.Fits(current.Body.String("partial_key_hint"), value))
                return Failed(request, version, new AdminFailure($"Anthropic key {keyId} (the version's providerKeyId tag) is not the key of version {version.Version}: nothing was deactivated; deactivate the version's key in the Console.", false));
        }
        if (current.NotFound || current.Body.String("status") is "inactive" or "archived" or "expired")
        {
            LogRevoked(logger, request.Key.Name, version.Version, keyId, false);
            return new ConnectorRevocation(ConnectorRevokeOutcome.AlreadyGone, $"Anthropic key {keyId} (found by {foundBy}) was already not active.");
        }
        if (current.Failure is not null)
            return Failed(request, version, current.Failure);

        var update = await admin.SendAsync(HttpMethod.Post, $"{KeysPath}/{Uri.EscapeDataString(keyId)}", new { status = "inactive" }, "deactivate an API key", cancellationToken).ConfigureAwait(false);
        if (update.Failure is not null)
            return Failed(request, version, update.Failure);

        LogRevoked(logger, request.Key.Name, version.Version, keyId, true);
        return new ConnectorRevocation(ConnectorRevokeOutcome.Revoked, $"Deactivated Anthropic key {keyId} (found by {foundBy}).");
    }

    /// <summary>The id must name a key of the organization whose <c>partial_key_hint</c> fits the staged value.</summary>
    public async Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken)
    {
        var (access, failure) = await AdminAccess.ReadAsync(key, secrets, Provider, cancellationToken).ConfigureAwait(false);
        if (access is null)
            return KeyIdConfirmation.Failed(failure!.Detail, failure.Transient);
        var admin = new KeysAdmin(clients.CreateClient(HttpClientName), access);
        var answer = await admin.SendAsync(HttpMethod.Get, $"{KeysPath}/{Uri.EscapeDataString(providerKeyId)}", null, "read an API key", cancellationToken).ConfigureAwait(false);
        if (answer.NotFound)
            return KeyIdConfirmation.Refused($"The Anthropic organization has no key {providerKeyId}.");
        if (answer.Failure is not null)
            return KeyIdConfirmation.Failed(answer.Failure.Detail, answer.Failure.Transient);
        return PartialKeyHint.Fits(answer.Body.String("partial_key_hint"), value)
            ? KeyIdConfirmation.Confirmed(providerKeyId)
            : KeyIdConfirmation.Refused($"Anthropic key {providerKeyId} is not the key of the staged value (its partial key hint does not fit).");
    }

    private async Task<(string? Value, AdminFailure? Failure)> ReadValueAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        try
        {
            return ((await secrets.GetAsync(request.Key.SecretName, version.Version, cancellationToken).ConfigureAwait(false)).Value, null);
        }
        catch (SecretStoreException e)
        {
            return (null, new AdminFailure($"Key Vault could not be read for version {version.Version} of '{request.Key.SecretName}' ({e.Status?.ToString() ?? "no answer"}).", e.IsTransient));
        }
    }

    /// <summary>The id of the one listed key whose hint fits the version's value; the value is read here and dropped here.</summary>
    private async Task<(string? KeyId, AdminFailure? Failure)> FindByHintAsync(KeysAdmin admin, ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        var (value, readFailure) = await ReadValueAsync(request, version, cancellationToken).ConfigureAwait(false);
        if (value is null)
            return (null, readFailure);

        var matches = new List<string>();
        string? after = null;
        for (var page = 0; ; page++)
        {
            if (page == MaxPages)
                return (null, new AdminFailure($"The organization lists more than {MaxPages * PageSize} keys; not searched further.", false));
            var query = $"{KeysPath}?limit={PageSize}" + (after is null ? "" : "&after_id=" + Uri.EscapeDataString(after));
            var answer = await admin.SendAsync(HttpMethod.Get, query, null, "list API keys", cancellationToken).ConfigureAwait(false);
            if (answer.Failure is not null)
                return (null, answer.Failure);
            if (!answer.Body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                return (null, new AdminFailure("The Anthropic admin API answered list API keys without a data array.", false));

            foreach (var key in data.EnumerateArray())
            {
                if (key.String("id") is { } id && PartialKeyHint.Fits(key.String("partial_key_hint"), value))
                    matches.Add(id);
            }

            if (!(answer.Body.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True) || answer.Body.String("last_id") is not { } last)
                break;
            after = last;
        }

        return matches switch
        {
            [var only] => (only, null),
            [] => (null, new AdminFailure($"No Anthropic key's partial hint fits version {version.Version}, which has no providerKeyId tag: deactivate its key in the Console.", false)),
            _ => (null, new AdminFailure($"{matches.Count} Anthropic keys' partial hints fit version {version.Version} ({string.Join(", ", matches)}): tag the version's providerKeyId or deactivate its key in the Console.", false)),
        };
    }

    private ConnectorRevocation Failed(ConnectorRequest request, RevokedVersion version, AdminFailure failure)
    {
        LogFailed(logger, request.Key.Name, version.Version, failure.Transient, failure.Detail);
        return failure.ToRevocation();
    }

    /// <summary>Admin calls with the admin key and API version on each.</summary>
    private sealed class KeysAdmin(HttpClient client, AdminAccess access)
    {
        public async Task<AdminAnswer> SendAsync(HttpMethod method, string relative, object? body, string what, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, access.Resolve(relative));
            request.Headers.Add("x-api-key", access.AdminKey);
            request.Headers.Add("anthropic-version", ApiVersion);
            if (body is not null)
                request.Content = JsonContent.Create(body);
            return await AdminApiCall.SendAsync(client, request, Provider, what, cancellationToken).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Anthropic key {KeyId} of provider key {ProviderKeyName} version {Version} revoked (deactivated now: {Deactivated})")]
    private static partial void LogRevoked(ILogger logger, string providerKeyName, string version, string keyId, bool deactivated);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anthropic connector revoke failed for provider key {ProviderKeyName} version {Version} (transient: {Transient}): {Detail}")]
    private static partial void LogFailed(ILogger logger, string providerKeyName, string version, bool transient, string detail);
}
