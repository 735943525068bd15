using System.Globalization;
using System.Text.Json;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Admin;

/// <summary>The admin API's error shape, <c>{"error":{"code","message"}}</c>. Messages never carry a secret.</summary>
public static class ApiErrors
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="message">What this call has to say beyond the entry's default message.</param>
    public static Task WriteAsync(HttpContext context, FuncKeyOpsError error, string? message = null, TimeSpan? retryAfter = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        // The gate's admin event names the code of the answer.
        context.Items[AdminTrail.ErrorCodeItem] = error.Code;
        context.Response.StatusCode = error.Status;
        if (retryAfter is { } wait)
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(new { error = new { code = error.Code, message = message ?? error.Message } }, Json, AdminEndpoint.Answering(context));
    }

    /// <summary>Input echoed in a message to help the operator, but cut short: a pasted credential should not come back whole.</summary>
    internal static string Quote(string? value) =>
        value is null ? "null" : value.Length <= 40 ? $"'{value}'" : $"'{value[..16]}…' ({value.Length} characters)";
}
