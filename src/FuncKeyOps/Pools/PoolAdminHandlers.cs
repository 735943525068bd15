using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Pools;

/// <summary>Admin calls for pools of provider keys, written against HttpContext for both hosts.</summary>
public static class PoolAdminHandlers
{
    public static async Task ListAsync(HttpContext context)
    {
        var pools = await context.RequestServices.GetRequiredService<PoolRegistry>().ListAsync(context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, new { items = pools.Select(View) }).ConfigureAwait(false);
    }

    public static async Task GetAsync(HttpContext context, string name)
    {
        if (await context.RequestServices.GetRequiredService<PoolRegistry>().GetAsync(name, context.RequestAborted).ConfigureAwait(false) is not { } pool)
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }
        await AdminJson.WriteAsync(context, StatusCodes.Status200OK, View(pool)).ConfigureAwait(false);
    }

    /// <summary>Creates (201) or replaces (200) the pool whole; the same body again writes nothing.</summary>
    public static async Task PutAsync(HttpContext context, string name)
    {
        if (await AdminJson.ReadAsync<PoolSpec>(context).ConfigureAwait(false) is not { } spec)
            return;
        var keys = context.RequestServices.GetRequiredService<ProviderKeyRegistry>();
        var registered = await keys.ListAsync(context.RequestAborted).ConfigureAwait(false);
        if (PoolSpecValidator.Validate(name, spec, registered, out var pool) is { } error)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, error).ConfigureAwait(false);
            return;
        }
        // Checked before the write, as a provider key's registration checks for a pool (see there for the race).
        if (registered.Any(k => k.Name == name))
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict,
                $"'{name}' is a provider key; a pool cannot have a provider key's name, since a relay key binds to either by name.").ConfigureAwait(false);
            return;
        }
        var (created, _) = await context.RequestServices.GetRequiredService<PoolRegistry>().PutAsync(pool!, context.RequestAborted).ConfigureAwait(false);
        await AdminJson.WriteAsync(context, created ? StatusCodes.Status201Created : StatusCodes.Status200OK, View(pool!)).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes the pool: 204, or 404. Relay keys still bound to it answer 503 <c>bound_provider_key_missing</c> until
    /// they are rebound or a pool or key of that name is registered again; they are not searched for here, since the
    /// binding is the relay key's and a name may be registered again on purpose (a pool replaced by a single key).
    /// </summary>
    public static async Task DeleteAsync(HttpContext context, string name)
    {
        if (!await context.RequestServices.GetRequiredService<PoolRegistry>().DeleteAsync(name, context.RequestAborted).ConfigureAwait(false))
        {
            await NotFoundAsync(context, name).ConfigureAwait(false);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static Task NotFoundAsync(HttpContext context, string name) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, $"No pool named {ApiErrors.Quote(name)}.");

    private static object View(ProviderKeyPool pool) => new
    {
        name = pool.Name,
        provider = pool.Provider,
        mode = PoolModes.Name(pool.Mode),
        members = pool.Members.Select(m => new { key = m.KeyName, weight = m.Weight, deployments = m.Deployments }),
    };
}
