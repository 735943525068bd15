using FuncKeyOps.Errors;
using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Relay;

/// <summary>Our own answers (401, 403, 429, 502, ...) in the provider's error shape, so SDKs surface them as provider errors.</summary>
internal static class RelayErrors
{
    /// <param name="message">What this call has to say beyond the entry's default message.</param>
    public static async Task WriteAsync(HttpContext context, IProviderAdapter adapter, RelayCall call, FuncKeyOpsError error, string? message = null, TimeSpan? retryAfter = null)
    {
        call.Status = error.Status;
        call.ErrorCode = error.Code;
        if (context.Response.HasStarted)
            return;
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json";
        if (error.Status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound or StatusCodes.Status413PayloadTooLarge
            || error == FuncKeyOpsErrors.ProviderKeyRejected) // a 5xx the SDKs would retry, but only the operator can fix it
            response.Headers["x-should-retry"] = "false"; // SDKs that honour it do not retry what cannot succeed
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = RetryAfterHeader.Format(wait);
        var body = adapter.FormatError(error.Status, error.Code, message ?? error.Message);
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
