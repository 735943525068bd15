using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tenants;

/// <summary>
/// The tenant-scoped calls (<c>/api/tenants/{tenant}/provider-keys/{provider}</c>, behind <see cref="TenantGate"/>) and
/// the admin's tenant policy calls. A key's value is never answered, logged or echoed: responses carry metadata only.
/// </summary>
public static class TenantHandlers
{
    public sealed record KeyRequest(string? Value);

    public sealed record PolicyRequest(bool? FallbackToPlatform);

    /// <summary><c>PUT</c> <c>{value}</c>: 201 (first value) or 200 (replaced), 400 when the provider refuses it.</summary>
    public static async Task PutKeyAsync(HttpContext context, string tenant, string provider)
    {
        if (!await KnownProviderAsync(context, provider).ConfigureAwait(false))
            return;
        if (await AdminJson.ReadAsync<KeyRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        if (string.IsNullOrWhiteSpace(body.Value))
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, "'value' is required.").ConfigureAwait(false);
            return;
        }
        var result = await Service(context).StoreAsync(tenant, provider, body.Value.Trim(), context.RequestAborted).ConfigureAwait(false);
        // The provider's body is never passed on: some providers quote the key they refused.
        await (result.Outcome switch
        {
            TenantKeyStoreOutcome.Created => AdminJson.WriteAsync(context, StatusCodes.Status201Created, View(provider, result.Key!)),
            TenantKeyStoreOutcome.Replaced => AdminJson.WriteAsync(context, StatusCodes.Status200OK, View(provider, result.Key!)),
            TenantKeyStoreOutcome.Rejected => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.TenantKeyRejected,
                $"The provider refused the key (status {result.Status}); nothing was stored."),
            TenantKeyStoreOutcome.Unreachable => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderUnreachable),
            TenantKeyStoreOutcome.Inconclusive => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.ProviderValidationFailed,
                $"The provider answered the validation call with status {result.Status}, which says nothing about the key; nothing was stored."),
            TenantKeyStoreOutcome.InProgress => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"Another PUT of this tenant's {provider} key is under way; try again when it has answered; nothing was stored."),
            TenantKeyStoreOutcome.NoUpstream => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"The platform has no {provider} key, so no {provider} endpoint to send a tenant's key to; nothing was stored."),
            _ => ApiErrors.WriteAsync(context, FuncKeyOpsErrors.RotationRunning,
                "The value replaced last is still within its grace before it is revoked; store a new one after that; nothing was stored."),
        }).ConfigureAwait(false);
    }

    /// <summary><c>GET</c>: provider, created, last used and a 4-character hint; 404 when none is stored.</summary>
    public static async Task GetKeyAsync(HttpContext context, string tenant, string provider)
    {
        if (!await KnownProviderAsync(context, provider).ConfigureAwait(false))
            return;
        if (await Service(context).GetAsync(tenant, provider, context.RequestAborted).ConfigureAwait(false) is not { } key)
        {
            await NoKeyAsync(context, provider).ConfigureAwait(false);
            return;
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, View(provider, key)).ConfigureAwait(false);
    }

    /// <summary><c>DELETE</c>: 204, or 404 when none is stored.</summary>
    public static async Task DeleteKeyAsync(HttpContext context, string tenant, string provider)
    {
        if (!await KnownProviderAsync(context, provider).ConfigureAwait(false))
            return;
        if (!await Service(context).DeleteAsync(tenant, provider, context.RequestAborted).ConfigureAwait(false))
        {
            await NoKeyAsync(context, provider).ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Admin: <c>GET tenants/{tenant}/policy</c>, the policy and the providers the tenant brings its own key for.</summary>
    public static async Task GetPolicyAsync(HttpContext context, string tenant)
    {
        var record = await Service(context).GetPolicyAsync(tenant, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, PolicyView(record)).ConfigureAwait(false);
    }

    /// <summary>Admin only: a tenant must not be able to opt into spending the platform's money.</summary>
    public static async Task PutPolicyAsync(HttpContext context, string tenant)
    {
        if (await AdminJson.ReadAsync<PolicyRequest>(context).ConfigureAwait(false) is not { } body)
            return;
        if (body.FallbackToPlatform is not { } fallback)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, "'fallbackToPlatform' (true or false) is required.").ConfigureAwait(false);
            return;
        }
        var service = Service(context);
        await service.SetPolicyAsync(tenant, fallback, context.RequestAborted).ConfigureAwait(false);
        var record = await service.GetPolicyAsync(tenant, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, PolicyView(record)).ConfigureAwait(false);
    }

    private static async Task<bool> KnownProviderAsync(HttpContext context, string provider)
    {
        if (ProviderNames.All.Contains(provider))
            return true;
        await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.UnknownProvider, $"Unknown provider. Use one of: {string.Join(", ", ProviderNames.All)}.").ConfigureAwait(false);
        return false;
    }

    private static Task NoKeyAsync(HttpContext context, string provider) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, $"This tenant has no {provider} key stored.");

    private static object View(string provider, TenantKeyRecord key) => new
    {
        provider,
        createdAt = key.StoredAt,
        lastUsed = key.LastUsed,
        hint = key.Hint,
    };

    private static object PolicyView(TenantRecord record) => new
    {
        tenant = record.Tenant,
        fallbackToPlatform = record.FallbackToPlatform,
        ownKeys = record.Keys.Values.OrderBy(k => k.Provider, StringComparer.Ordinal).Select(k => new { provider = k.Provider, stored = k.Stored }),
    };

    private static TenantKeyService Service(HttpContext context) => context.RequestServices.GetRequiredService<TenantKeyService>();
}
