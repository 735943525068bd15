using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Testing.Vault;

/// <summary>
/// Serves the Key Vault secrets REST subset. Every request is challenged first, then routed by hand:
/// the SDK sends both <c>/secrets/{name}</c> and <c>/secrets/{name}/</c> for "latest", which hand
/// routing treats alike without any route-template subtleties.
/// </summary>
internal sealed class VaultRequestHandler(VaultStore store, Func<Uri> vaultUri, Action onAuthenticated, VaultFaults faults)
{
    /// <summary>Tenant named in the challenge; the SDK parses it from the authorization URI's first segment.</summary>
    public const string TenantId = "3f7c2a9e-5b1d-4e8f-9a6c-0d2b4e6f8a1c";

    // The SDK takes the token scope from "resource" and the tenant from "authorization"; both values must
    // be quoted and free of commas, as its challenge parser splits on those.
    public const string Challenge =
        $"Bearer authorization=\"https://login.microsoftonline.com/{TenantId}\", resource=\"https://vault.azure.net\"";

    private const int DefaultPageSize = 25;
    private const int MaxPageSize = 25;
    private const string DefaultApiVersion = "7.6";

    public async Task HandleAsync(HttpContext context)
    {
        try
        {
            AddServiceHeaders(context);
            if (!HasBearerToken(context.Request))
            {
                context.Response.Headers.WWWAuthenticate = Challenge;
                await WriteErrorAsync(context, new VaultException(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token."));
                return;
            }

            onAuthenticated();
            if (faults.FailStatus is > 0 and var status)
            {
                await WriteErrorAsync(context, new VaultException(status, "ServiceUnavailable", "The test vault was told to fail."));
                return;
            }
            if (faults.CurrentHold is { } hold)
                context.Response.OnStarting(() => hold.WaitAsync(context.RequestAborted)); // answered as read, but late
            await RouteAsync(context);
        }
        catch (VaultException e)
        {
            await WriteErrorAsync(context, e);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception) when (!context.Response.HasStarted)
        {
            // Deliberately generic: an unexpected exception's text could quote request content.
            await WriteErrorAsync(context, new VaultException(500, "InternalError", "The test vault failed to process the request."));
        }
    }

    private Task RouteAsync(HttpContext context)
    {
        var request = context.Request;
        var method = request.Method;
        string[] segments = (request.Path.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);

        return segments switch
        {
            ["secrets"] when HttpMethods.IsGet(method) => ListSecretsAsync(context),
            ["secrets", var name] when HttpMethods.IsPut(method) => SetAsync(context, name),
            ["secrets", var name] when HttpMethods.IsGet(method) => GetAsync(context, name, null),
            ["secrets", var name] when HttpMethods.IsPatch(method) => UpdateAsync(context, name, null),
            ["secrets", var name] when HttpMethods.IsDelete(method) => DeleteAsync(context, name),
            ["secrets", var name, "versions"] when HttpMethods.IsGet(method) => ListVersionsAsync(context, name),
            ["secrets", var name, var version] when HttpMethods.IsGet(method) => GetAsync(context, name, version),
            ["secrets", var name, var version] when HttpMethods.IsPatch(method) => UpdateAsync(context, name, version),
            ["deletedsecrets"] when HttpMethods.IsGet(method) => ListDeletedAsync(context),
            ["deletedsecrets", var name] when HttpMethods.IsGet(method) => GetDeletedAsync(context, name),
            ["deletedsecrets", var name] when HttpMethods.IsDelete(method) => PurgeAsync(context, name),
            ["deletedsecrets", var name, "recover"] when HttpMethods.IsPost(method) => RecoverAsync(context, name),
            ["secrets", ..] or ["deletedsecrets", ..] => throw new VaultException(
                405, "MethodNotAllowed", $"The requested resource does not support http method '{method}'."),
            _ => throw new VaultException(404, "NotFound", "The requested resource was not found in this test vault."),
        };
    }

    private async Task SetAsync(HttpContext context, string name)
    {
        SecretName.Validate(name);
        var write = VaultRequestBody.ReadSet(await ReadBodyAsync(context));
        var created = store.Set(name, write);
        await WriteJsonAsync(context, 200, w => VaultJson.WriteBundle(w, vaultUri(), created, includeValue: true));
    }

    private Task GetAsync(HttpContext context, string name, string? version)
    {
        var found = store.Get(name, version);
        return WriteJsonAsync(context, 200, w => VaultJson.WriteBundle(w, vaultUri(), found, includeValue: true));
    }

    private async Task UpdateAsync(HttpContext context, string name, string? version)
    {
        SecretName.Validate(name);
        var patch = VaultRequestBody.ReadPatch(await ReadBodyAsync(context));
        var updated = store.Update(name, version, patch);
        // The service answers an update with the properties only (a SecretBundle without "value").
        await WriteJsonAsync(context, 200, w => VaultJson.WriteBundle(w, vaultUri(), updated, includeValue: false));
    }

    private Task DeleteAsync(HttpContext context, string name)
    {
        var deleted = store.Delete(name);
        return WriteJsonAsync(context, 200, w => VaultJson.WriteDeletedBundle(w, vaultUri(), deleted));
    }

    private Task ListSecretsAsync(HttpContext context) =>
        WritePageAsync(context, store.LatestOfEach(), (w, v) => VaultJson.WriteItem(w, vaultUri(), v, withVersion: false));

    private Task ListVersionsAsync(HttpContext context, string name) =>
        WritePageAsync(context, store.Versions(name), (w, v) => VaultJson.WriteItem(w, vaultUri(), v, withVersion: true));

    private Task ListDeletedAsync(HttpContext context) =>
        WritePageAsync(context, store.AllDeleted(), (w, d) => VaultJson.WriteDeletedItem(w, vaultUri(), d));

    private Task GetDeletedAsync(HttpContext context, string name)
    {
        var deleted = store.GetDeleted(name);
        return WriteJsonAsync(context, 200, w => VaultJson.WriteDeletedBundle(w, vaultUri(), deleted));
    }

    private Task PurgeAsync(HttpContext context, string name)
    {
        store.Purge(name);
        context.Response.StatusCode = 204;
        return Task.CompletedTask;
    }

    private Task RecoverAsync(HttpContext context, string name)
    {
        var recovered = store.Recover(name);
        return WriteJsonAsync(context, 200, w => VaultJson.WriteBundle(w, vaultUri(), recovered, includeValue: false));
    }

    /// <summary>
    /// Pages like the service: at most 25 items, and a nextLink that carries a skip token. The token is a
    /// plain offset; it is only meaningful to this vault, as the real one's is only meaningful to it.
    /// </summary>
    private Task WritePageAsync<T>(HttpContext context, IReadOnlyList<T> all, Action<Utf8JsonWriter, T> writeItem)
    {
        var query = context.Request.Query;
        int pageSize = DefaultPageSize;
        if (query.TryGetValue("maxresults", out var max) &&
            (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            throw VaultException.BadParameter($"maxresults must be an integer between 1 and {MaxPageSize}.");
        }

        int skip = 0;
        if (query.TryGetValue("$skiptoken", out var token) &&
            !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out skip))
        {
            throw VaultException.BadParameter("The $skiptoken is not valid.");
        }

        string? nextLink = null;
        if (skip + pageSize < all.Count)
        {
            string apiVersion = query.TryGetValue("api-version", out var v) ? v.ToString() : DefaultApiVersion;
            nextLink = $"{vaultUri()}{context.Request.Path.Value!.TrimStart('/')}" +
                $"?api-version={Uri.EscapeDataString(apiVersion)}&$skiptoken={skip + pageSize}" +
                (max.Count > 0 ? $"&maxresults={pageSize}" : "");
        }

        return WriteJsonAsync(context, 200, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("value");
            foreach (var item in all.Skip(skip).Take(pageSize))
            {
                writeItem(w, item);
            }

            w.WriteEndArray();
            w.WriteString("nextLink", nextLink);
            w.WriteEndObject();
        });
    }

    private static bool HasBearerToken(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        const string prefix = "Bearer ";
        return header is not null
            && header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
            && !string.IsNullOrWhiteSpace(header[prefix.Length..]);
    }

    private static void AddServiceHeaders(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers["x-ms-request-id"] = Guid.NewGuid().ToString();
        if (context.Request.Headers.TryGetValue("x-ms-client-request-id", out var clientRequestId))
        {
            headers["x-ms-client-request-id"] = clientRequestId;
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        return buffer.ToArray();
    }

    private static Task WriteErrorAsync(HttpContext context, VaultException error) =>
        WriteJsonAsync(context, error.Status, w => VaultJson.WriteError(w, error.Code, error.Message, error.InnerCode));

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = buffer.WrittenCount;
        await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
