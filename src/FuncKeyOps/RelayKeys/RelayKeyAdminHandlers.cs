using FuncKeyOps.Admin;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.RelayKeys;

/// <summary>
/// The admin API's relay-key calls, written against <see cref="HttpContext"/> so both hosts call them.
/// Run them behind <see cref="AdminEndpoint.RunAsync"/>; they assume the caller is an administrator.
/// </summary>
public static class RelayKeyAdminHandlers
{
    /// <summary><c>POST relay-keys</c>: 201 with the key's fields and <c>key</c>, shown this once.</summary>
    public static async Task CreateAsync(HttpContext context)
    {
        if (await AdminJson.ReadAsync<RelayKeySpec>(context).ConfigureAwait(false) is not { } spec)
            return;

        try
        {
            var (key, secret) = await Service(context).CreateAsync(spec, context.RequestAborted).ConfigureAwait(false);
            context.Response.StatusCode = StatusCodes.Status201Created;
            context.Response.Headers.Location = $"{context.Request.PathBase}{context.Request.Path.Value?.TrimEnd('/')}/{key.Id}";
            await Write(context, RelayKeyView.From(key, secret)).ConfigureAwait(false);
        }
        catch (RelayKeyValidationException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary>Keys per page when the caller does not say.</summary>
    public const int DefaultPageSize = 100;

    /// <summary>Table Storage returns at most 1,000 rows per call.</summary>
    public const int MaxPageSize = 1000;

    /// <summary>
    /// <c>GET relay-keys?limit=&amp;continuation=</c>: <c>{"relayKeys":[...],"next":...}</c>, a page in id order;
    /// <c>next</c> is passed back as <c>continuation</c> for the following page and is null after the last.
    /// </summary>
    public static async Task ListAsync(HttpContext context)
    {
        var query = context.Request.Query;
        if (!AdminQuery.TryLimit(query["limit"], DefaultPageSize, MaxPageSize, out var limit))
        {
            await BadRequest(context, $"limit must be a whole number from 1 to {MaxPageSize}.").ConfigureAwait(false);
            return;
        }
        if (!AdminQuery.TryOptional(query["continuation"], out var continuation))
        {
            await BadRequest(context, "continuation must be given at most once and not empty.").ConfigureAwait(false);
            return;
        }
        try
        {
            var (keys, next) = await Service(context).ListAsync(limit, continuation, context.RequestAborted).ConfigureAwait(false);
            await Write(context, new { relayKeys = keys.Select(k => RelayKeyView.From(k)), next }).ConfigureAwait(false);
        }
        catch (RelayKeyValidationException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary><c>GET relay-keys/{id}</c>: the key, or 404.</summary>
    public static async Task GetAsync(HttpContext context, string id)
    {
        var key = await Service(context).GetAsync(id, context.RequestAborted).ConfigureAwait(false);
        await WriteKeyOrNotFound(context, id, key).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>PATCH relay-keys/{id}</c>, a JSON merge patch of <see cref="RelayKeyPatch"/>'s fields: 200 with the key,
    /// 400 naming what is wrong (nothing changes), 404, or 409 when revoked.
    /// </summary>
    public static async Task UpdateAsync(HttpContext context, string id)
    {
        if (await AdminJson.ReadAsync<RelayKeyPatch>(context).ConfigureAwait(false) is not { } patch)
            return;
        try
        {
            var key = await Service(context).UpdateAsync(id, patch, context.RequestAborted).ConfigureAwait(false);
            await WriteKeyOrNotFound(context, id, key).ConfigureAwait(false);
        }
        catch (RelayKeyValidationException e)
        {
            await BadRequest(context, e.Message).ConfigureAwait(false);
        }
        catch (RelayKeyConflictException e)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict, e.Message).ConfigureAwait(false);
        }
    }

    /// <summary><c>POST relay-keys/{id}/suspend</c>: 200 with the key, 404, or 409 when revoked.</summary>
    public static Task SuspendAsync(HttpContext context, string id) =>
        ChangeStatus(context, id, static (service, id, ct) => service.SuspendAsync(id, ct));

    /// <summary><c>POST relay-keys/{id}/resume</c>: 200 with the key, 404, or 409 when revoked (revocation is final).</summary>
    public static Task ResumeAsync(HttpContext context, string id) =>
        ChangeStatus(context, id, static (service, id, ct) => service.ResumeAsync(id, ct));

    /// <summary><c>DELETE relay-keys/{id}</c>: revokes; 200 with the key, or 404.</summary>
    public static Task RevokeAsync(HttpContext context, string id) =>
        ChangeStatus(context, id, static (service, id, ct) => service.RevokeAsync(id, ct));

    private static async Task ChangeStatus(HttpContext context, string id, Func<RelayKeyService, string, CancellationToken, Task<RelayKey?>> change)
    {
        try
        {
            var key = await change(Service(context), id, context.RequestAborted).ConfigureAwait(false);
            await WriteKeyOrNotFound(context, id, key).ConfigureAwait(false);
        }
        catch (RelayKeyConflictException e)
        {
            await ApiErrors.WriteAsync(context, FuncKeyOpsErrors.Conflict, e.Message).ConfigureAwait(false);
        }
    }

    private static Task WriteKeyOrNotFound(HttpContext context, string id, RelayKey? key)
    {
        if (key is not null)
            return Write(context, RelayKeyView.From(key));
        // Only a well-formed id is echoed: someone may paste a whole key into the URL.
        var message = RelayKeyFormat.IsId(id) ? $"No relay key has id '{id}'." : "No relay key has this id.";
        return ApiErrors.WriteAsync(context, FuncKeyOpsErrors.NotFound, message);
    }

    private static Task BadRequest(HttpContext context, string message) =>
        ApiErrors.WriteAsync(context, FuncKeyOpsErrors.InvalidRequest, message);

    private static Task Write<T>(HttpContext context, T body) =>
        context.Response.WriteAsJsonAsync(body, ApiErrors.Json, AdminEndpoint.Answering(context));

    private static RelayKeyService Service(HttpContext context) =>
        context.RequestServices.GetRequiredService<RelayKeyService>();
}
