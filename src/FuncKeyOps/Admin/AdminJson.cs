using System.Text.Json;
using System.Text.Json.Serialization;
using FuncKeyOps.Errors;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Admin;

/// <summary>JSON in and out of admin handlers (camelCase); errors go through <see cref="ApiErrors"/>.</summary>
public static class AdminJson
{
    // A misspelt field (daily_tokens for dailyTokens) would otherwise be dropped without a word, and the key
    // created without the limit the operator asked for.
    private static readonly JsonSerializerOptions Read = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        // "5" for 5 is a client bug to report, not to guess at (the Web defaults accept it).
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static Task WriteAsync(HttpContext context, int status, object body)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(body, ApiErrors.Json, AdminEndpoint.Answering(context));
    }

    /// <summary>
    /// The body as <typeparamref name="T"/>, or null after a 400 <c>invalid_request_body</c> (as the relay answers an
    /// unreadable body) that names the field at fault: not JSON, not an object, a value of the wrong type, or a field
    /// <typeparamref name="T"/> does not have. A body too large or too slow gets the relay's codes too (413, 408).
    /// </summary>
    public static async Task<T?> ReadAsync<T>(HttpContext context) where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        string message;
        var error = FuncKeyOpsErrors.InvalidRequestBody;
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Read, context.RequestAborted).ConfigureAwait(false);
            if (value is not null)
                return value;
            message = "The body must be a JSON object.";
        }
        catch (JsonException e)
        {
            // The parser's own message may quote the body, so only the path is used.
            message = Describe(e, typeof(T));
        }
        catch (BadHttpRequestException e)
        {
            // Too large, too slow, or the client broke off the body: its fault, not ours.
            error = FuncKeyOpsErrors.ForUnreadableBody(e.StatusCode);
            message = "The body could not be read.";
        }
        await ApiErrors.WriteAsync(context, error, message).ConfigureAwait(false);
        return null;
    }

    private static string Describe(JsonException e, Type type)
    {
        var path = e.Path ?? "$";
        var field = LastSegment(path);
        // Told apart by the type's own fields rather than the parser's (English) message.
        if (path != "$" && !Read.GetTypeInfo(type).Properties.Any(p => string.Equals(p.Name, field, StringComparison.OrdinalIgnoreCase)))
            return $"The body has a field {ApiErrors.Quote(field)} this call does not take.";
        if (path == "$")
            return "The body must be a JSON object of the documented shape.";
        return $"The body is not valid JSON of the documented shape at {ApiErrors.Quote(path)} (field {ApiErrors.Quote(field)}).";
    }

    // "$.daily_tokens" -> daily_tokens; "$['odd.name']" -> odd.name; "$.providers[0]" -> providers.
    private static string LastSegment(string path)
    {
        var trimmed = path.EndsWith(']') && !path.EndsWith("']", StringComparison.Ordinal) ? path[..path.LastIndexOf('[')] : path;
        if (trimmed.EndsWith("']", StringComparison.Ordinal))
        {
            var start = trimmed.LastIndexOf("['", StringComparison.Ordinal);
            return start < 0 ? trimmed : trimmed[(start + 2)..^2];
        }
        var dot = trimmed.LastIndexOf('.');
        return dot < 0 ? trimmed : trimmed[(dot + 1)..];
    }
}
