using FuncKeyOps.Admin;
using FuncKeyOps.Anomalies;
using FuncKeyOps.Anomalies.Findings;
using FuncKeyOps.Audit;
using FuncKeyOps.Health;
using FuncKeyOps.Pools;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Tenants;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.AspNetCore.Http.HttpMethods;

namespace FuncKeyOps.Hosting;

/// <summary>
/// Every route of the service, in one table both hosts map: the Server host endpoint by endpoint
/// (<see cref="EndpointMapping"/>), the Functions host with one trigger each for health and the relay, ONE
/// admin trigger that dispatches through <see cref="AdminDispatcher"/> and ONE tenant trigger (<see cref="RouteMatcher.Tenant"/>). A new admin call is one row of
/// <see cref="Admin"/> here and nothing else: both hosts, the admin trail and the route test pick it up.
/// </summary>
public static class Routes
{
    public const string Health = "health";
    public const string Relay = "relay/{provider}/{**path}";

    /// <summary>The admin API's prefix as designed; the Server host serves it beside <see cref="ManagePrefix"/>.</summary>
    public const string AdminPrefix = "admin";

    /// <summary>The Functions host reserves every route starting with "admin" for itself, so its admin API is here.</summary>
    public const string ManagePrefix = "manage";

    /// <summary>The Functions host's one admin trigger; <see cref="AdminDispatcher"/> finds the row for the rest.</summary>
    public const string ManageTrigger = ManagePrefix + "/{**path}";

    /// <summary>The tenant-scoped API's prefix (below <c>/api</c>, beside the admin API, not under it: tenants call it).</summary>
    public const string TenantPrefix = "tenants";

    /// <summary>The Functions host's one tenant trigger; <see cref="RouteMatcher.Tenant"/> finds the row for the rest.</summary>
    public const string TenantTrigger = TenantPrefix + "/{**path}";

    /// <summary>The admin API, templates below the admin prefix. Every row runs behind <see cref="AdminEndpoint"/>.</summary>
    public static IReadOnlyList<ApiRoute> Admin { get; } =
    [
        AdminRoute(Post, "relay-keys", RelayKeyAdminHandlers.CreateAsync),
        AdminRoute(Get, "relay-keys", RelayKeyAdminHandlers.ListAsync),
        AdminRoute(Get, "relay-keys/{id}", c => RelayKeyAdminHandlers.GetAsync(c, Id(c))),
        AdminRoute(Patch, "relay-keys/{id}", c => RelayKeyAdminHandlers.UpdateAsync(c, Id(c))),
        AdminRoute(Post, "relay-keys/{id}/suspend", c => RelayKeyAdminHandlers.SuspendAsync(c, Id(c))),
        AdminRoute(Post, "relay-keys/{id}/resume", c => RelayKeyAdminHandlers.ResumeAsync(c, Id(c))),
        AdminRoute(Delete, "relay-keys/{id}", c => RelayKeyAdminHandlers.RevokeAsync(c, Id(c))),
        AdminRoute(Get, "provider-keys", ProviderKeyAdminHandlers.ListAsync),
        AdminRoute(Put, "provider-keys/{name}", c => ProviderKeyAdminHandlers.RegisterAsync(c, Name(c))),
        AdminRoute(Get, "provider-keys/{name}", c => ProviderKeyAdminHandlers.GetAsync(c, Name(c))),
        AdminRoute(Delete, "provider-keys/{name}", c => ProviderKeyAdminHandlers.DeleteAsync(c, Name(c))),
        AdminRoute(Post, "provider-keys/{name}/versions", c => ProviderKeyAdminHandlers.StageVersionAsync(c, Name(c))),
        AdminRoute(Post, "provider-keys/{name}/versions/{version}/activate", c =>
            ProviderKeyAdminHandlers.ActivateVersionAsync(c, Name(c), ApiRoute.Value(c, "version")!)),
        AdminRoute(Post, "provider-keys/{name}/rotations", c => RotationAdminHandlers.StartAsync(c, Name(c))),
        AdminRoute(Get, "pools", PoolAdminHandlers.ListAsync),
        AdminRoute(Put, "pools/{name}", c => PoolAdminHandlers.PutAsync(c, Name(c))),
        AdminRoute(Get, "pools/{name}", c => PoolAdminHandlers.GetAsync(c, Name(c))),
        AdminRoute(Delete, "pools/{name}", c => PoolAdminHandlers.DeleteAsync(c, Name(c))),
        AdminRoute(Get, "rotations/{keyName}/{id}", c => RotationAdminHandlers.GetAsync(c, ApiRoute.Value(c, "keyName")!, Id(c))),
        AdminRoute(Post, "rotations/{keyName}/{id}/abort", c => RotationAdminHandlers.AbortAsync(c, ApiRoute.Value(c, "keyName")!, Id(c))),
        AdminRoute(Get, "audit", AuditAdminHandlers.QueryAsync),
        AdminRoute(Get, "usage", UsageAdminHandlers.SummarizeAsync),
        AdminRoute(Get, "admin-events", AdminEventHandlers.ListAsync),
        AdminRoute(Get, "findings", FindingAdminHandlers.ListAsync),
        AdminRoute(Get, "findings/{id}", c => FindingAdminHandlers.GetAsync(c, Id(c))),
        AdminRoute(Post, "findings/{id}/ack", c => FindingAdminHandlers.AcknowledgeAsync(c, Id(c))),
        AdminRoute(Post, "findings/{id}/resolve", c => FindingAdminHandlers.ResolveAsync(c, Id(c))),
        AdminRoute(Post, "sweeps/run", SweepAdminHandlers.RunAsync),
        AdminRoute(Get, "sweeps", SweepAdminHandlers.GetAsync),
        AdminRoute(Get, "tenants/{tenant}/policy", c => TenantHandlers.GetPolicyAsync(c, TenantOf(c))),
        AdminRoute(Put, "tenants/{tenant}/policy", c => TenantHandlers.PutPolicyAsync(c, TenantOf(c))),
    ];

    /// <summary>
    /// The tenant-scoped API, templates below <c>/api</c>: the admin or a relay key of the tenant with the <c>byok</c>
    /// scope (<see cref="TenantGate"/>), behind the admin gate like the admin rows (storage bound, admin trail).
    /// </summary>
    public static IReadOnlyList<ApiRoute> Tenant { get; } =
    [
        TenantRoute(Put, TenantPrefix + "/{tenant}/provider-keys/{provider}", c => TenantHandlers.PutKeyAsync(c, TenantOf(c), ProviderOf(c))),
        TenantRoute(Get, TenantPrefix + "/{tenant}/provider-keys/{provider}", c => TenantHandlers.GetKeyAsync(c, TenantOf(c), ProviderOf(c))),
        TenantRoute(Delete, TenantPrefix + "/{tenant}/provider-keys/{provider}", c => TenantHandlers.DeleteKeyAsync(c, TenantOf(c), ProviderOf(c))),
    ];

    /// <summary>The routes outside the admin API.</summary>
    public static IReadOnlyList<ApiRoute> Public { get; } =
    [
        new(Health, [Get], RouteAccess.Anonymous, HealthEndpoint.WriteAsync),
        new(Relay, [], RouteAccess.Relay, c => c.RequestServices.GetRequiredService<RelayHandler>()
            .HandleAsync(c, ApiRoute.Value(c, "provider")!, ApiRoute.Value(c, "path"))),
    ];

    public static IEnumerable<ApiRoute> All => Public.Concat(Admin).Concat(Tenant);

    private static ApiRoute AdminRoute(string method, string template, RequestDelegate handler) =>
        new(template, [method], RouteAccess.Admin, handler);

    private static ApiRoute TenantRoute(string method, string template, RequestDelegate handler) =>
        new(template, [method], RouteAccess.Tenant, handler);

    private static string TenantOf(HttpContext context) => ApiRoute.Value(context, "tenant")!;
    private static string ProviderOf(HttpContext context) => ApiRoute.Value(context, "provider")!;
    private static string Id(HttpContext context) => ApiRoute.Value(context, "id")!;
    private static string Name(HttpContext context) => ApiRoute.Value(context, "name")!;
}
