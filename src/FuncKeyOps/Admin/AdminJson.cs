using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Admin;

/// <summary>JSON in and out of admin handlers (camelCase); errors go through <see cref="ApiErrors"/>.</summary>
public static class AdminJson
{
    public static Task WriteAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(body, ApiErrors.Json, context.RequestAborted);
    }

    /// <summary>The body as <typeparamref name="T"/>, or null (after a 400 was written) when it is not valid JSON.</summary>
    public static async Task<T?> ReadAsync<T>(HttpContext context) where T : class
    {
        try
        {
            var value = await context.Request.ReadFromJsonAsync<T>(ApiErrors.Json, context.RequestAborted).ConfigureAwait(false);
            if (value is not null)
                return value;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or BadHttpRequestException)
        {
            // Falls through to the 400 below; the parser's message may quote the body, so it is not echoed.
        }
        await ApiErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid_request", "The body must be a JSON object of the documented shape.").ConfigureAwait(false);
        return null;
    }
}
