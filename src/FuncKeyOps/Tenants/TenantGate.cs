using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.Hosting;
using FuncKeyOps.RelayKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tenants;

/// <summary>
/// Who may call a tenant route (<see cref="RouteAccess.Tenant"/>): the admin key in <c>x-fko-admin-key</c>, or a
/// relay key of the route's tenant carrying the <c>byok</c> scope as <c>Authorization: Bearer fko_…</c>, the header
/// OpenAI's SDKs send a key in. No or an invalid credential: 401; another tenant's key or no scope: 403.
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
        return new GateCheck(AdminAuthOutcome.Authorized, Actor(key));
    }

    private static string Actor(RelayKey key) => "relay-key:" + key.Id;
}
