using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.Pools;
using FuncKeyOps.Providers;
using FuncKeyOps.Rotation;
using FuncKeyOps.Secrets;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.ProviderKeys;

/// <summary>Admin calls for provider keys, written against HttpContext for both hosts. Values go to Key Vault only.</summary>
public static class ProviderKeyAdminHandlers
{
    /// <param name="Policy">A <see cref="RotationPolicy"/> object (or the same as a JSON string); absent is the default policy.</param>
    /// <param name="ConnectorSettings">Ids and Key Vault secret names the connector needs (strings only, never a credential).</param>
    /// <param name="Default">True: this key becomes its provider's default. False or absent keeps the flag as stored.</param>
    /// <param name="Rpm">Requests per minute the provider grants the key (kept across instances); null or absent = none.</param>
    /// <param name="Tpm">Tokens per minute the provider grants the key; null or absent = none.</param>
    public sealed record RegisterRequest(string? Provider, string? BaseUrl, string? SecretName, string? Connector, JsonElement? Policy,
        Dictionary<string, string>? ConnectorSettings, bool? Default = null, int? Rpm = null, long? Tpm = null);

    /// <param name="Activate">Validate the value with the provider, then stage and activate it in one call.</param>
    public sealed record StageRequest(string? Value, string? ProviderKeyId, bool Activate = false);

    public static async Task ListAsync(HttpContext context)
    {
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var keys = await registry.ListAsync(context.RequestAborted).ConfigureAwait(false);
        var defaults = Defaults(keys);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items = keys.Select(k => View(k, defaults.Contains(k.Name))) }).ConfigureAwait(false);
    }

    public static async Task RegisterAsync(HttpContext context, string name)
    {
        if (await AdminJson.ReadAsync<RegisterRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        var error = Validate(name, body, out var baseUrl, out var policy);
        if (error is not null)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, error).ConfigureAwait(false);
            return;
        }
        // Checked before the write; a pool PUT of the same name at the same instant could still pass its own check:
        // then the router takes the key (it looks keys up first) and the pool serves nothing until renamed.
        if (await context.RequestServices.GetRequiredService<PoolRegistry>().GetAsync(name, context.RequestAborted).ConfigureAwait(false) is not null)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"'{name}' is a pool; a provider key cannot have a pool's name, since a relay key binds to either by name.").ConfigureAwait(false);
            return;
        }
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var all = await registry.ListAsync(context.RequestAborted).ConfigureAwait(false);
        if (Refusal(context.RequestServices, name, body, baseUrl!, all) is { } refusal)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, refusal).ConfigureAwait(false);
            return;
        }
        if (ProviderKeySecretNames.CaseTwin(name, all) is { } twin)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"'{twin.Name}' is registered already and Key Vault names ignore case: '{name}' would share its secret.").ConfigureAwait(false);
            return;
        }
        var config = new ProviderKeyConfig
        {
            Name = name,
            Provider = body.Provider!,
            BaseUrl = baseUrl!,
            SecretName = name,
            Connector = body.Connector ?? "manual",
            Policy = policy,
            ConnectorSettings = body.ConnectorSettings ?? [],
            Rpm = body.Rpm,
            Tpm = body.Tpm,
        };
        // Re-registering must not reset traffic weights mid-rotation: the registry keeps the row's weights.
        var (created, stored) = await registry.RegisterAsync(config, body.Default == true, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, created ? StatusCodes.Status201Created : StatusCodes.Status200OK, View(stored, stored.IsDefault)).ConfigureAwait(false);
    }

    /// <summary>
    /// Stages a pending version (manual connector): the value goes into Key Vault, tagged pending, and serves nothing
    /// until activated. With <c>"activate": true</c> it is validated first and activated at once.
    /// </summary>
    public static async Task StageVersionAsync(HttpContext context, string name)
    {
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        if (await registry.GetAsync(name, context.RequestAborted).ConfigureAwait(false) is not { } config)
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }
        if (await AdminJson.ReadAsync<StageRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        if (string.IsNullOrWhiteSpace(body.Value))
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, "'value' is required.").ConfigureAwait(false);
            return;
        }
        var staging = context.RequestServices.GetRequiredService<ProviderKeyStaging>();
        var staged = await staging.StageAsync(config, body.Value, body.ProviderKeyId, body.Activate, context.RequestAborted).ConfigureAwait(false);
        if (staged.Refusal is { } refusal)
        {
            await ApiErrors.WriteAsync(context, refusal.Error, refusal.Detail).ConfigureAwait(false);
            return;
        }
        if (staged.Activation is { } activation && !IsSuccess(activation.Outcome))
        {
            await WriteActivationErrorAsync(context, name, staged.Version, activation).ConfigureAwait(false);
            return;
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status201Created,
            new { name, version = staged.Version, state = staged.Activation is null ? "pending" : "active" }).ConfigureAwait(false);
    }

    /// <summary>
    /// Validates a staged version with the provider, then moves all routing weight to it and tags it active (the
    /// version it replaces becomes previous). 200 with <c>changed: false</c> when it already was.
    /// </summary>
    public static async Task ActivateVersionAsync(HttpContext context, string name, string version)
    {
        var activation = context.RequestServices.GetRequiredService<ProviderKeyActivation>();
        var result = await activation.ActivateAsync(name, version, context.RequestAborted).ConfigureAwait(false);
        if (!IsSuccess(result.Outcome))
        {
            await WriteActivationErrorAsync(context, name, version, result).ConfigureAwait(false);
            return;
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new
        {
            name,
            version,
            state = "active",
            weights = new Dictionary<string, int> { [version] = ProviderKeyActivation.FullWeight },
            previous = result.Previous,
            changed = result.Outcome == ActivationOutcome.Activated,
        }).ConfigureAwait(false);
    }

    /// <summary>One provider key with its versions: state, enabled, routing weight. Never a value.</summary>
    public static async Task GetAsync(HttpContext context, string name)
    {
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var all = await registry.ListAsync(context.RequestAborted).ConfigureAwait(false);
        if (all.FirstOrDefault(c => c.Name == name) is not { } config)
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }
        IReadOnlyList<SecretVersionInfo> versions;
        try
        {
            versions = await context.RequestServices.GetRequiredService<ISecretStore>().ListVersionsAsync(config.SecretName, context.RequestAborted).ConfigureAwait(false);
        }
        catch (SecretNotFoundException)
        {
            versions = [];
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new
        {
            key = View(config, Defaults(all).Contains(name)),
            versions = versions.Reverse().Select(v => new // newest first
            {
                version = v.Version,
                state = v.State?.ToTag(),
                enabled = v.Enabled,
                weight = config.Weights.GetValueOrDefault(v.Version),
                createdOn = v.CreatedOn,
            }),
        }).ConfigureAwait(false);
    }

    /// <summary>Removes the registration (<see cref="ProviderKeyRemoval"/>); 204, or 404, or 409 with the reason.</summary>
    public static async Task DeleteAsync(HttpContext context, string name)
    {
        var removal = context.RequestServices.GetRequiredService<ProviderKeyRemoval>();
        var removed = await removal.RemoveAsync(name, context.RequestAborted).ConfigureAwait(false);
        switch (removed.Outcome)
        {
            case RemovalOutcome.Removed:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return;
            case RemovalOutcome.InUse:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderKeyInUse,
                    $"'{name}' is its provider's default key, which serves every relay key not bound to another; make another key the default first (PUT provider-keys/{removed.Successor} with \"default\": true), then delete it.").ConfigureAwait(false);
                return;
            case RemovalOutcome.PoolMember:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderKeyInUse,
                    $"'{name}' is a member of the pool(s) {string.Join(", ", removed.Pools!.Select(p => $"'{p}'"))}; remove it from them first.").ConfigureAwait(false);
                return;
            case RemovalOutcome.RotationRunning:
                await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.RotationRunning,
                    $"'{name}' has a rotation that has not finished; abort it or wait for it.").ConfigureAwait(false);
                return;
            default:
                await NotFoundAsync(context, name).ConfigureAwait(false);
                return;
        }
    }

    private static bool IsSuccess(ActivationOutcome outcome) => outcome is ActivationOutcome.Activated or ActivationOutcome.AlreadyActive;

    private static Task WriteActivationErrorAsync(HttpContext context, string name, string? version, ActivationResult result)
    {
        var status = result.Validation?.Status;
        return result.Outcome switch
        {
            ActivationOutcome.KeyNotFound => NotFoundAsync(context, name),
            ActivationOutcome.VersionNotFound => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound,
                $"Provider key '{name}' has no version '{version}'."),
            ActivationOutcome.RotationRunning => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.RotationRunning,
                $"Provider key '{name}' has rotation '{result.RunningRotation}' that has not finished: it owns the weights and revokes the version it replaced. Abort it (POST rotations/{name}/{result.RunningRotation}/abort) or let it end, then activate; nothing was changed."),
            ActivationOutcome.VersionUnusable => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.VersionUnusable,
                $"Version '{version}' is disabled or revoked and cannot be activated."),
            // The provider's body is never passed on: some providers quote the key they refused.
            ActivationOutcome.Rejected => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderKeyValueRejected,
                $"The provider refused the value (status {status}); nothing was changed."),
            _ when status is null => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderUnreachable),
            _ => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderValidationFailed,
                $"The provider answered the validation call with status {status}, which says nothing about the value (check the base URL); nothing was changed."),
        };
    }

    // What Validate cannot judge alone: the vault's other secrets and the hosts the operator allows.
    private static string? Refusal(IServiceProvider services, string name, RegisterRequest body, Uri baseUrl, IReadOnlyList<ProviderKeyConfig> all)
    {
        var options = services.GetRequiredService<IOptions<ProviderKeyOptions>>().Value;
        var development = services.GetService<IHostEnvironment>()?.IsDevelopment() == true;
        return ProviderKeySecretNames.Check(name, body.SecretName, body.ConnectorSettings, all, services)
            ?? ProviderKeyEndpoints.Check(body.Provider!, baseUrl, body.ConnectorSettings, options.AllowedEndpointHosts, development);
    }

    private static Task NotFoundAsync(HttpContext context, string name) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, $"No provider key named '{name}'.");

    private static readonly HashSet<string> Connectors = [.. ProviderNames.All, "manual"];

    private static string? Validate(string name, RegisterRequest body, out Uri? baseUrl, out string? policy)
    {
        baseUrl = null;
        policy = null;
        if (!ProviderKeyNames.IsValid(name))
            return ProviderKeyNames.Rule;
        if (body.Provider is null || !ProviderNames.All.Contains(body.Provider))
            return $"'provider' must be one of: {string.Join(", ", ProviderNames.All)}.";
        if (!Uri.TryCreate(body.BaseUrl, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("https" or "http")
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.UserInfo))
            return "'baseUrl' must be an absolute http(s) URL without query or credentials.";
        if (body.SecretName is { } secret && !ProviderKeyNames.IsValid(secret))
            return "'secretName' must be a Key Vault secret name (letters, digits, '-').";
        if (body.Connector is { } connector && !Connectors.Contains(connector))
            return $"'connector' must be one of: {string.Join(", ", Connectors)}.";
        if (body.Rpm <= 0 || body.Tpm <= 0)
            return "'rpm' and 'tpm' must be positive integers, or null for no ceiling.";
        if (body.Policy is { ValueKind: not JsonValueKind.Null } given)
        {
            // Stored as the JSON text of an object; a string holding that JSON is accepted too (the older form).
            policy = given.ValueKind == JsonValueKind.String ? given.GetString() : given.GetRawText();
            try
            {
                RotationPolicy.Parse(policy);
            }
            catch (FormatException e)
            {
                return e.Message;
            }
        }
        return null;
    }

    // The default as the relay applies it (DefaultOf), so rows written before defaults existed show the key that serves.
    private static HashSet<string> Defaults(IReadOnlyList<ProviderKeyConfig> all) =>
        [.. all.GroupBy(c => c.Provider).Select(ProviderKeyRegistry.DefaultOf).OfType<ProviderKeyConfig>().Select(c => c.Name)];

    private static object View(ProviderKeyConfig c, bool isDefault) => new
    {
        name = c.Name,
        provider = c.Provider,
        @default = isDefault,
        baseUrl = c.BaseUrl,
        secretName = c.SecretName,
        connector = c.Connector,
        policy = PolicyView(c.Policy),
        connectorSettings = c.ConnectorSettings,
        weights = c.Weights,
        rpm = c.Rpm,
        tpm = c.Tpm,
    };

    /// <summary>The stored policy as the object it is; a row registered before policies were checked may hold any text.</summary>
    private static object? PolicyView(string? policy)
    {
        if (string.IsNullOrEmpty(policy))
            return null;
        try
        {
            using var document = JsonDocument.Parse(policy);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return policy;
        }
    }
}
