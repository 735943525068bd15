using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Admin;

/// <summary>The admin API's error shape, <c>{"error":{"code","message"}}</c>. Messages never carry a secret.</summary>
public static class ApiErrors
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        // The gate's admin event names the code of the answer.
        context.Items[AdminTrail.ErrorCodeItem] = code;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error = new { code, message } }, Json, context.RequestAborted);
    }

    /// <summary>Input echoed in a message to help the operator, but cut short: a pasted credential should not come back whole.</summary>
    internal static string Quote(string? value) =>
        value is null ? "null" : value.Length <= 40 ? $"'{value}'" : $"'{value[..16]}…' ({value.Length} characters)";
}
