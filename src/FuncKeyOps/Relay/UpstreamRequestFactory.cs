using FuncKeyOps.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FuncKeyOps.Relay;

/// <summary>
/// Builds the upstream request: the client's method and headers, minus hop-by-hop headers, every client credential
/// and our own headers, plus the provider key the adapter applies.
/// </summary>
public static class UpstreamRequestFactory
{
    private static readonly HashSet<string> NeverForwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        // Hop-by-hop (RFC 9110 7.6.1) and what the connection to us, not to the provider, is about.
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect",
        // Identity responses only: usage is read from the bytes as they pass (SDKs ask for gzip).
        "Accept-Encoding",
        // Credentials of any provider's style, whatever provider this is.
        "Authorization", "x-api-key", "api-key", "x-goog-api-key", "Cookie",
        // Where the client is: the provider does not need it.
        "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded", "X-Real-IP",
        // The provider key's account decides organisation and project, not the client.
        "OpenAI-Organization", "OpenAI-Project",
    };

    public static HttpRequestMessage Create(HttpRequest request, IProviderAdapter adapter, Uri upstreamUri, ReadOnlyMemory<byte> body, string providerKey)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), upstreamUri)
        {
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };
        if (body.Length > 0 || HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method) || HttpMethods.IsPatch(request.Method))
            message.Content = new ReadOnlyMemoryContent(body);

        foreach (var (name, values) in request.Headers)
        {
            if (NeverForwarded.Contains(name) || name.StartsWith("x-fko-", StringComparison.OrdinalIgnoreCase) || adapter.IsCredentialHeader(name))
                continue;
            AddHeader(message, name, values);
        }
        adapter.ApplyProviderKey(message, providerKey);
        return message;
    }

    /// <summary>The client's query string without credential parameters (Gemini's <c>?key=</c>).</summary>
    public static string FilterQuery(HttpRequest request, IProviderAdapter adapter)
    {
        var query = request.Query;
        if (!query.Keys.Any(adapter.IsCredentialQueryParameter))
            return request.QueryString.Value ?? "";
        var kept = new List<KeyValuePair<string, StringValues>>(query.Count);
        foreach (var pair in query)
        {
            if (!adapter.IsCredentialQueryParameter(pair.Key))
                kept.Add(pair);
        }
        return kept.Count == 0 ? "" : QueryString.Create(kept).ToUriComponent();
    }

    private static void AddHeader(HttpRequestMessage message, string name, StringValues values)
    {
        if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
    }
}
