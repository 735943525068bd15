using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.Hosting;
using FuncKeyOps.Quotas;
using FuncKeyOps.RelayKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tenants;

/// <summary>
/// Who may call a tenant route (<see cref="RouteAccess.Tenant"/>): the admin key in <c>x-fko-admin-key</c>, or a
/// relay key of the route's tenant carrying the <c>byok</c> scope as <c>Authorization: Bearer fko_…</c>, the header
/// OpenAI's SDKs send a key in. No or an invalid credential: 401; another tenant's key or no scope: 403. A relay key
/// is held here to what the relay holds it to (see <see cref="Relay.RelayHandler"/>): its allowed source addresses
/// (403 <c>ip_not_allowed</c>), its providers (403 <c>provider_not_allowed</c>) and its rate limit and budgets (429),
/// since a key refused by the relay must not manage the keys the relay would then use for its tenant.
/// </summary>
public static class TenantGate
{
    private const string Bearer = "Bearer ";

    internal static async Task<GateCheck> CheckAsync(HttpContext context, CancellationToken cancellationToken)
    {
        // The admin key, when sent, decides alone: an admin is never judged as a tenant.
        if (!string.IsNullOrEmpty(context.Request.Headers[AdminAuth.HeaderName].ToString()))
            return await AdminEndpoint.CheckAdminKeyAsync(context, cancellationToken).ConfigureAwait(false);

        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
            return new GateCheck(AdminAuthOutcome.Missing, null, FuncKeyOpsErrors.Unauthorized,
                $"Send a relay key with the byok scope as 'Authorization: Bearer fko_…', or the admin key in {AdminAuth.HeaderName}.");
        var services = context.RequestServices;
        RelayKeyAuthentication auth;
        try
        {
            auth = await services.GetRequiredService<RelayKeyAuthenticator>()
                .AuthenticateAsync(authorization[Bearer.Length..].Trim(), services.GetRequiredService<TimeProvider>().GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (RelayKeyUnavailableException)
        {
            return new GateCheck(AdminAuthOutcome.Unavailable, null, FuncKeyOpsErrors.RelayKeyUnavailable);
        }
        if (auth.Key is not { } key)
            return new GateCheck(AdminAuthOutcome.Wrong, auth.Claimed is { } claimed ? Actor(claimed) : null, FuncKeyOpsErrors.Unauthorized, auth.Message);
        if (key.Tenant != ApiRoute.Value(context, "tenant"))
            return new GateCheck(AdminAuthOutcome.Forbidden, Actor(key), FuncKeyOpsErrors.Forbidden, "This relay key belongs to another tenant.");
        if (!key.Scopes.Contains(RelayKeyScopes.Byok))
            return new GateCheck(AdminAuthOutcome.Forbidden, Actor(key), FuncKeyOpsErrors.Forbidden, $"This relay key lacks the '{RelayKeyScopes.Byok}' scope.");
        return await LimitsAsync(context, key, cancellationToken).ConfigureAwait(false) ?? new GateCheck(AdminAuthOutcome.Authorized, Actor(key));
    }

    // In the relay's order: provider, source address, then the permit (taken last, so a refused call spends none).
    private static async ValueTask<GateCheck?> LimitsAsync(HttpContext context, RelayKey key, CancellationToken cancellationToken)
    {
        var services = context.RequestServices;
        if (key.Providers.Count > 0 && !key.Providers.Contains(ApiRoute.Value(context, "provider") ?? ""))
            return new GateCheck(AdminAuthOutcome.Forbidden, Actor(key), FuncKeyOpsErrors.ProviderNotAllowed);
        if (key.AllowedIps.Count > 0 && !IpAllowList.Allows(key.AllowedIps, services.GetRequiredService<AdminTrail>().SourceOf(context)))
            return new GateCheck(AdminAuthOutcome.Forbidden, Actor(key), FuncKeyOpsErrors.IpNotAllowed);
        // The same permits as the key's relay calls: managing keys is not a way around the key's rate.
        var quota = await services.GetRequiredService<IQuotaGate>().TryAcquireAsync(key, cancellationToken).ConfigureAwait(false);
        return quota.Allowed ? null : new GateCheck(AdminAuthOutcome.Limited, Actor(key), quota.Refusal ?? FuncKeyOpsErrors.RateLimited, RetryAfter: quota.RetryAfter);
    }

    private static string Actor(RelayKey key) => "relay-key:" + key.Id;
}
