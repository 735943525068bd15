using FuncKeyOps.Functions.Rotation;
using FuncKeyOps.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FuncKeyOps.Functions.Tenants;

/// <summary>
/// The tenant-scoped API as one trigger: Anonymous at the Functions level (tenants hold no function key; the library's
/// gate checks the admin key or the tenant's byok relay key), then the table's rows for <c>tenants/…</c>. Its Durable
/// client is what a replaced key's revoke is scheduled with.
/// </summary>
public sealed class TenantFunction(DurableClientSource durableClients)
{
    [Function("Tenants")]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, Route = Routes.TenantTrigger)] HttpRequest request,
        string? path,
        [DurableClient] DurableTaskClient durable)
    {
        durableClients.Use(durable);
        await RouteMatcher.Tenant.DispatchAsync(request.HttpContext, Routes.TenantPrefix + "/" + path);
        return new EmptyResult();
    }
}
