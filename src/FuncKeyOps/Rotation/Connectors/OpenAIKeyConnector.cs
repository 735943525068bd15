using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Rotation.Connectors;

/// <summary>
/// <c>openai</c>: makes and deletes project keys through OpenAI's Admin API. What it relies on (API reference, Nov 2026):
/// <list type="bullet">
/// <item>Auth on every call: <c>Authorization: Bearer</c> with an organization admin key.</item>
/// <item><c>POST /v1/organization/projects/{project_id}/service_accounts</c> <c>{name}</c> answers the account
/// <c>{id, name, role, created_at, api_key: {id, name, value, created_at}}</c>: the only time that key's value is shown.</item>
/// <item><c>POST /v1/organization/projects/{project_id}/service_accounts/{service_account_id}/api_keys</c> <c>{name}</c> adds a key
/// to an existing account and answers <c>{id, name, value, created_at, expires_at}</c>.</item>
/// <item><c>GET /v1/organization/projects/{project_id}/api_keys?limit=&amp;after=</c> answers <c>{data, has_more, last_id}</c>, each key
/// <c>{id, name, redacted_value, owner: {type, service_account: {id, name}}}</c>: never a value.</item>
/// <item><c>DELETE /v1/organization/projects/{project_id}/api_keys/{key_id}</c> and <c>.../service_accounts/{id}</c> answer
/// <c>{id, deleted}</c>, 404 once gone.</item>
/// </list>
/// connectorSettings: <c>projectId</c>, <c>adminKeySecret</c>, optional <c>serviceAccountId</c> (keys are added to that account;
/// without it each rotation gets a service account of its own, named after the rotation and deleted with its key) and
/// optional <c>adminBaseUrl</c>. The provider key id is the key id, or <c>{serviceAccountId}/{keyId}</c> when the rotation
/// made the account, so revoke can delete both.
/// </summary>
public sealed partial class OpenAIKeyConnector(IHttpClientFactory clients, ISecretStore secrets, ILogger<OpenAIKeyConnector> logger) : IKeyConnector
{
    public const string ConnectorName = "openai";
    public const string HttpClientName = "FuncKeyOps.Connectors.OpenAIAdmin";
    public const string ProjectIdSetting = "projectId";
    public const string ServiceAccountIdSetting = "serviceAccountId";

    private const string Provider = "OpenAI";
    private const int PageSize = 100;
    // A project with more keys than this is not one a relay's rotations made; stop rather than page forever.
    private const int MaxPages = 50;

    public string Name => ConnectorName;

    /// <summary>What this rotation's key (or service account) is called at OpenAI, so a re-run finds it.</summary>
    public static string KeyNameFor(ConnectorRequest request) => $"funckeyops-{request.Key.Name}-{request.RotationId}";

    public async Task<ConnectorCreation> CreateAsync(ConnectorRequest request, CancellationToken cancellationToken)
    {
        var (project, failure) = await OpenAsync(request, cancellationToken).ConfigureAwait(false);
        if (project is null)
            return Failed(request, "create", failure!).ToCreation();

        var name = KeyNameFor(request);
        var (earlier, listFailure) = await FindEarlierAsync(project, name, cancellationToken).ConfigureAwait(false);
        if (listFailure is not null)
            return Failed(request, "create", listFailure).ToCreation();

        // A key an earlier attempt made whose value never reached the vault cannot be read again: delete it, then make one.
        foreach (var key in earlier)
        {
            if (request.ServingProviderKeyIds.Contains(key.ProviderKeyId, StringComparer.Ordinal))
                return Failed(request, "create", new AdminFailure($"Key {key.KeyId} made by this rotation already serves; it is not replaced.", false)).ToCreation();
            var (_, deleteFailure) = await DeleteAsync(project, key, cancellationToken).ConfigureAwait(false);
            if (deleteFailure is not null)
                return Failed(request, "create", deleteFailure).ToCreation();
            LogReplaced(logger, request.Key.Name, request.RotationId, key.KeyId);
        }

        var created = await MakeKeyAsync(project, name, cancellationToken).ConfigureAwait(false);
        if (created.Failure is not null)
            return Failed(request, "create", created.Failure).ToCreation();

        LogCreated(logger, request.Key.Name, request.RotationId, created.Ref!.KeyId);
        var detail = earlier.Count == 0
            ? $"Created OpenAI key {created.Ref.KeyId}."
            : $"Created OpenAI key {created.Ref.KeyId} after deleting {string.Join(", ", earlier.Select(k => k.KeyId))}, made by an earlier attempt of this rotation (a key's value cannot be read again).";
        return new ConnectorCreation(ConnectorCreateOutcome.Created, created.Value, created.Ref.ProviderKeyId, detail);
    }

    public async Task<ConnectorRevocation> RevokeAsync(ConnectorRequest request, RevokedVersion version, CancellationToken cancellationToken)
    {
        if (version.ProviderKeyId is null || KeyRef.Parse(version.ProviderKeyId) is not { } key)
            return Failed(request, "revoke", new AdminFailure($"Version {version.Version} has no usable providerKeyId tag: delete its key in the OpenAI dashboard.", false)).ToRevocation();
        if (request.ServingProviderKeyIds.Contains(version.ProviderKeyId, StringComparer.Ordinal))
            return Failed(request, "revoke", new AdminFailure($"Key {key.KeyId} still serves; it is not deleted.", false)).ToRevocation();

        var (project, failure) = await OpenAsync(request, cancellationToken).ConfigureAwait(false);
        if (project is null)
            return Failed(request, "revoke", failure!).ToRevocation();

        var (deleted, deleteFailure) = await DeleteAsync(project, key, cancellationToken).ConfigureAwait(false);
        if (deleteFailure is not null)
            return Failed(request, "revoke", deleteFailure).ToRevocation();

        LogRevoked(logger, request.Key.Name, version.Version, key.KeyId, deleted);
        return deleted
            ? new ConnectorRevocation(ConnectorRevokeOutcome.Revoked, $"Deleted OpenAI key {key.KeyId}.")
            : new ConnectorRevocation(ConnectorRevokeOutcome.AlreadyGone, $"OpenAI key {key.KeyId} was already deleted.");
    }

    /// <summary>
    /// A staged id must be a plain key id of the configured project whose <c>redacted_value</c> fits the value. The
    /// <c>{serviceAccountId}/{keyId}</c> form is refused: revoke would delete that whole service account, and only a
    /// rotation that made the account itself may record it.
    /// </summary>
    public async Task<KeyIdConfirmation> ConfirmKeyIdAsync(ProviderKeyConfig key, string value, string providerKeyId, CancellationToken cancellationToken)
    {
        if (KeyRef.Parse(providerKeyId) is not { ServiceAccountId: null } parsed)
            return KeyIdConfirmation.Refused($"'{providerKeyId}' is not an OpenAI project key id (key_...): a staged value names its key only, never a service account.");
        var (project, failure) = await OpenAsync(key, cancellationToken).ConfigureAwait(false);
        if (project is null)
            return KeyIdConfirmation.Failed(failure!.Detail, failure.Transient);
        var answer = await project.SendAsync(HttpMethod.Get, $"api_keys/{Uri.EscapeDataString(parsed.KeyId)}", null, "read a project key", cancellationToken).ConfigureAwait(false);
        if (answer.NotFound)
            return KeyIdConfirmation.Refused($"The OpenAI project has no key {parsed.KeyId}.");
        if (answer.Failure is not null)
            return KeyIdConfirmation.Failed(answer.Failure.Detail, answer.Failure.Transient);
        return PartialKeyHint.Fits(answer.Body.String("redacted_value"), value)
            ? KeyIdConfirmation.Confirmed(parsed.KeyId)
            : KeyIdConfirmation.Refused($"OpenAI key {parsed.KeyId} is not the key of the staged value (its redacted value does not fit).");
    }

    private Task<(ProjectAdmin? Project, AdminFailure? Failure)> OpenAsync(ConnectorRequest request, CancellationToken cancellationToken) =>
        OpenAsync(request.Key, cancellationToken);

    private async Task<(ProjectAdmin? Project, AdminFailure? Failure)> OpenAsync(ProviderKeyConfig key, CancellationToken cancellationToken)
    {
        if (AdminAccess.Setting(key, ProjectIdSetting) is not { } projectId)
            return (null, AdminAccess.MissingSetting(ProjectIdSetting, "the id of the OpenAI project the key belongs to"));
        var (access, failure) = await AdminAccess.ReadAsync(key, secrets, Provider, cancellationToken).ConfigureAwait(false);
        return access is null
            ? (null, failure)
            : (new ProjectAdmin(clients.CreateClient(HttpClientName), access, projectId, AdminAccess.Setting(key, ServiceAccountIdSetting)), null);
    }

    /// <summary>Keys this rotation made before: by key name on the configured account, else by their own account's name.</summary>
    private static async Task<(IReadOnlyList<KeyRef> Keys, AdminFailure? Failure)> FindEarlierAsync(ProjectAdmin project, string name, CancellationToken cancellationToken)
    {
        var found = new List<KeyRef>();
        string? after = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var query = $"api_keys?limit={PageSize}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            var answer = await project.SendAsync(HttpMethod.Get, query, null, "list project keys", cancellationToken).ConfigureAwait(false);
            if (answer.Failure is not null)
                return ([], answer.Failure);

            if (!answer.Body.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                return ([], Unreadable("list project keys", "a data array"));

            foreach (var key in data.EnumerateArray())
            {
                var account = key.TryGetProperty("owner", out var owner) && owner.TryGetProperty("service_account", out var sa) ? sa : default;
                var (keyId, accountId) = (key.String("id"), account.String("id"));
                if (keyId is null)
                    continue;
                if (project.ServiceAccountId is not null
                    ? key.String("name") == name && accountId == project.ServiceAccountId
                    : account.String("name") == name && accountId is not null)
                {
                    found.Add(new KeyRef(keyId, project.ServiceAccountId is null ? accountId : null));
                }
            }

            if (!(answer.Body.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True)
                || answer.Body.String("last_id") is not { } last)
                return (found, null);
            after = last;
        }

        return ([], new AdminFailure($"The project's key list has more than {MaxPages * PageSize} keys; not searched further.", false));
    }

    private static async Task<(KeyRef? Ref, string? Value, AdminFailure? Failure)> MakeKeyAsync(ProjectAdmin project, string name, CancellationToken cancellationToken)
    {
        if (project.ServiceAccountId is { } accountId)
        {
            var answer = await project.SendAsync(HttpMethod.Post, $"service_accounts/{Uri.EscapeDataString(accountId)}/api_keys", new { name }, "create a service account key", cancellationToken).ConfigureAwait(false);
            if (answer.Failure is not null)
                return (null, null, answer.Failure);
            return answer.Body.String("id") is { } keyId && answer.Body.String("value") is { } value
                ? (new KeyRef(keyId, null), value, null)
                : (null, null, Unreadable("create a service account key", "the key's id and value"));
        }

        var account = await project.SendAsync(HttpMethod.Post, "service_accounts", new { name }, "create a service account", cancellationToken).ConfigureAwait(false);
        if (account.Failure is not null)
            return (null, null, account.Failure);
        return account.Body.String("id") is { } newAccountId
            && account.Body.TryGetProperty("api_key", out var key)
            && key.String("id") is { } newKeyId && key.String("value") is { } newValue
            ? (new KeyRef(newKeyId, newAccountId), newValue, null)
            : (null, null, Unreadable("create a service account", "the key's id and value"));
    }

    /// <summary>Deletes the key, then the service account the rotation made for it; false when both were gone already.</summary>
    private static async Task<(bool Deleted, AdminFailure? Failure)> DeleteAsync(ProjectAdmin project, KeyRef key, CancellationToken cancellationToken)
    {
        var answer = await project.SendAsync(HttpMethod.Delete, $"api_keys/{Uri.EscapeDataString(key.KeyId)}", null, "delete a project key", cancellationToken).ConfigureAwait(false);
        if (answer.Failure is not null && !answer.NotFound)
            return (false, answer.Failure);
        var deleted = !answer.NotFound;
        if (key.ServiceAccountId is { } accountId)
        {
            var account = await project.SendAsync(HttpMethod.Delete, $"service_accounts/{Uri.EscapeDataString(accountId)}", null, "delete a service account", cancellationToken).ConfigureAwait(false);
            if (account.Failure is not null && !account.NotFound)
                return (false, account.Failure);
            deleted |= !account.NotFound;
        }

        return (deleted, null);
    }

    private static AdminFailure Unreadable(string what, string missing) => new($"The {Provider} admin API answered {what} without {missing}.", false);

    private AdminFailure Failed(ConnectorRequest request, string step, AdminFailure failure)
    {
        LogFailed(logger, request.Key.Name, request.RotationId, step, failure.Transient, failure.Detail);
        return failure;
    }

    /// <summary>The project's admin calls with the admin key on each.</summary>
    private sealed class ProjectAdmin(HttpClient client, AdminAccess access, string projectId, string? serviceAccountId)
    {
        public string? ServiceAccountId => serviceAccountId;

        public async Task<AdminAnswer> SendAsync(HttpMethod method, string relative, object? body, string what, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(method, access.Resolve($"v1/organization/projects/{Uri.EscapeDataString(projectId)}/{relative}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", access.AdminKey);
            if (body is not null)
                request.Content = JsonContent.Create(body);
            return await AdminApiCall.SendAsync(client, request, Provider, what, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A key at OpenAI, and the service account the rotation made for it when it made one.</summary>
    private sealed record KeyRef(string KeyId, string? ServiceAccountId)
    {
        public string ProviderKeyId => ServiceAccountId is null ? KeyId : $"{ServiceAccountId}/{KeyId}";

        public static KeyRef? Parse(string providerKeyId) => providerKeyId.Split('/') switch
        {
            [var keyId] when keyId.Length > 0 => new KeyRef(keyId, null),
            [var accountId, var keyId] when accountId.Length > 0 && keyId.Length > 0 => new KeyRef(keyId, accountId),
            _ => null,
        };
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenAI key {KeyId} created for provider key {ProviderKeyName}, rotation {RotationId}")]
    private static partial void LogCreated(ILogger logger, string providerKeyName, string rotationId, string keyId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OpenAI key {KeyId} made by an earlier attempt of rotation {RotationId} of provider key {ProviderKeyName} was deleted to be made again")]
    private static partial void LogReplaced(ILogger logger, string providerKeyName, string rotationId, string keyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "OpenAI key {KeyId} of provider key {ProviderKeyName} version {Version} revoked (deleted now: {Deleted})")]
    private static partial void LogRevoked(ILogger logger, string providerKeyName, string version, string keyId, bool deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OpenAI connector {Step} failed for provider key {ProviderKeyName}, rotation {RotationId} (transient: {Transient}): {Detail}")]
    private static partial void LogFailed(ILogger logger, string providerKeyName, string rotationId, string step, bool transient, string detail);
}
