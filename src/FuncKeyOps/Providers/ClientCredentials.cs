using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FuncKeyOps.Providers;

/// <summary>
/// Where client credentials can hide, shared by every adapter: a client may send any provider's header to any
/// route (an SDK pointed at the wrong relay route, or a deliberate probe), and none of them may reach upstream.
/// </summary>
internal static class ClientCredentials
{
    // Every header any supported SDK uses for a key or token, whichever provider the route is for.
    private static readonly string[] Headers = ["authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key"];

    // Gemini's key, Google's OAuth access_token, and the APIM and generic spellings a client might try.
    private static readonly string[] QueryParameters = ["key", "access_token", "api-key", "api_key", "subscription-key"];

    public static bool IsHeader(string name) => Contains(Headers, name);

    public static bool IsQueryParameter(string name) => Contains(QueryParameters, name);

    /// <summary>The token of <c>Authorization: Bearer &lt;token&gt;</c>; null when absent, repeated, or another scheme.</summary>
    public static string? ReadBearer(HttpRequest request)
    {
        if (Single(request.Headers.Authorization) is not { } value)
            return null;
        const string scheme = "Bearer ";
        if (value.Length <= scheme.Length || !value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        return NonEmpty(value.AsSpan(scheme.Length).Trim());
    }

    /// <summary>The value of a key header; null when absent or empty.</summary>
    public static string? ReadHeader(HttpRequest request, string name) =>
        Single(request.Headers[name]) is { } value ? NonEmpty(value.AsSpan().Trim()) : null;

    /// <summary>The value of a key query parameter; null when absent or empty.</summary>
    public static string? ReadQuery(HttpRequest request, string name) =>
        Single(request.Query[name]) is { } value ? NonEmpty(value.AsSpan().Trim()) : null;

    // Two values for one credential are ambiguous (which one would upstream have used?), so they count as none.
    private static string? Single(StringValues values) => values.Count == 1 ? values[0] : null;

    private static string? NonEmpty(ReadOnlySpan<char> value) => value.IsEmpty ? null : new string(value);

    private static bool Contains(string[] names, string name)
    {
        foreach (var candidate in names)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
