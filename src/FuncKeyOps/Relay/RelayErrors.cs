using System.Globalization;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>Our own answers (401, 403, 429, 502, ...) in the provider's error shape, so SDKs surface them as provider errors.</summary>
internal static class RelayErrors
{
    public static async Task WriteAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, int status, string code, string message, TimeSpan? retryAfter = null)
    {
        call.Status = status;
        call.ErrorCode = code;
        if (context.Response.HasStarted)
            return;
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        if (status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge
            || code == "provider_key_rejected") // a 5xx the SDKs would retry, but only the operator can fix it
            response.Headers["x-should-retry"] = "false"; // SDKs that honour it do not retry what cannot succeed
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var body = adapter.FormatError(status, code, message);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
