using FuncKeyOps.Admin;
using FuncKeyOps.Providers;
using FuncKeyOps.Secrets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.ProviderKeys;

/// <summary>Admin calls for provider keys, written against HttpContext for both hosts. Values go to Key Vault only.</summary>
public static class ProviderKeyAdminHandlers
{
    public sealed record RegisterRequest(string? Provider, string? BaseUrl, string? SecretName, string? Connector, string? Policy);

    public sealed record StageRequest(string? Value, string? ProviderKeyId);

    public static async Task ListAsync(HttpContext context)
    {
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var keys = await registry.ListAsync(context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items = keys.Select(View) }).ConfigureAwait(false);
    }

    public static async Task RegisterAsync(HttpContext context, string name)
    {
        if (await AdminJson.ReadAsync<RegisterRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        var error = Validate(name, body, out var baseUrl);
        if (error is not null)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid_request", error).ConfigureAwait(false);
            return;
        }
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var existing = await registry.GetAsync(name, context.RequestAborted).ConfigureAwait(false);
        var config = new ProviderKeyConfig
        {
            Name = name,
            Provider = body.Provider!,
            BaseUrl = baseUrl!,
            SecretName = body.SecretName ?? name,
            Connector = body.Connector ?? "manual",
            Policy = body.Policy,
            // Re-registering must not reset traffic weights mid-rotation.
            Weights = existing?.Weights ?? new Dictionary<string, int>(),
        };
        await registry.PutAsync(config, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, existing is null ? StatusCodes.Status201Created : StatusCodes.Status200OK, View(config)).ConfigureAwait(false);
    }

    /// <summary>Stages a pending version (manual connector): the value goes into Key Vault, tagged pending.</summary>
    public static async Task StageVersionAsync(HttpContext context, string name)
    {
        var registry = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        if (await registry.GetAsync(name, context.RequestAborted).ConfigureAwait(false) is not { } config)
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status404NotFound, "not_found", $"No provider key named '{name}'.").ConfigureAwait(false);
            return;
        }
        if (await AdminJson.ReadAsync<StageRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        if (string.IsNullOrWhiteSpace(body.Value))
        {
            await ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "'value' is required.").ConfigureAwait(false);
            return;
        }
        var tags = new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Pending.ToTag() };
        if (!string.IsNullOrWhiteSpace(body.ProviderKeyId))
            tags[SecretTags.ProviderKeyId] = body.ProviderKeyId;
        var store = context.RequestServices.GetRequiredService<ISecretStore>();
        var version = await store.SetAsync(config.SecretName, body.Value, tags, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status201Created, new { name, version = version.Version, state = "pending" }).ConfigureAwait(false);
    }

    private static readonly HashSet<string> Connectors = [.. ProviderNames.All, "manual"];

    private static string? Validate(string name, RegisterRequest body, out Uri? baseUrl)
    {
        baseUrl = null;
        if (name.Length is 0 or > 127 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            return "The name must be 1-127 letters, digits or '-'.";
        if (body.Provider is null || !ProviderNames.All.Contains(body.Provider))
            return $"'provider' must be one of: {string.Join(", ", ProviderNames.All)}.";
        if (!Uri.TryCreate(body.BaseUrl, UriKind.Absolute, out baseUrl) || baseUrl.Scheme is not ("https" or "http")
            || !string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.UserInfo))
            return "'baseUrl' must be an absolute http(s) URL without query or credentials.";
        if (body.SecretName is { } secret && (secret.Length is 0 or > 127 || !secret.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')))
            return "'secretName' must be a Key Vault secret name (letters, digits, '-').";
        if (body.Connector is { } connector && !Connectors.Contains(connector))
            return $"'connector' must be one of: {string.Join(", ", Connectors)}.";
        return null;
    }

    private static object View(ProviderKeyConfig c) => new
    {
        name = c.Name,
        provider = c.Provider,
        baseUrl = c.BaseUrl,
        secretName = c.SecretName,
        connector = c.Connector,
        policy = c.Policy,
        weights = c.Weights,
    };
}
