using System.Buffers;
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
        // What the Functions host and Azure's front end add about the hop to us (ids, addresses, site names): the
        // provider never needs them and some name our deployment. App Service authentication's identity and tokens
        // (x-ms-client-principal*, x-ms-token-*) are prefixes below.
        "x-ms-invocation-id", "X-ARR-LOG-ID", "X-ARR-SSL", "X-SITE-DEPLOYMENT-ID", "WAS-DEFAULT-HOSTNAME", "DISGUISED-HOST",
        "X-WAWS-Unencoded-URL", "CLIENT-IP", "X-Client-IP", "X-Client-Port", "X-AppService-Proto", "x-ms-coldstart",
    };

    // Prefixes of the same: X-Original-* is what ASP.NET Core's forwarded-headers step (run by the Functions worker
    // on the host's forwarding) keeps of the hop it replaced. Not x-ms- as a whole: Azure SDKs send their own
    // (x-ms-client-request-id), which Azure OpenAI acts on.
    private static readonly string[] NeverForwardedPrefixes = ["X-Original-", "x-ms-client-principal", "x-ms-token-"];

    // Headers the provider acts on: dropping one would change what the call does, so one that cannot be sent is the
    // client's error (400). Any other header (User-Agent, SDK telemetry, a client's own x- headers) is informational
    // and is dropped instead: the call means the same without it, and clients do send e.g. a non-ASCII app name.
    private static readonly string[] ProviderSemanticPrefixes = ["Content-", "anthropic-", "openai-", "x-goog-", "x-ms-"];

    /// <summary>
    /// The first header the provider acts on whose value an outgoing request cannot carry, or null. Kestrel accepts
    /// UTF-8 and control characters in values; <see cref="HttpClient"/> refuses non-ASCII at send time with an
    /// <see cref="HttpRequestException"/>, which would be taken for an unreachable provider and retried.
    /// </summary>
    public static string? FindUnsendableHeader(HttpRequest request, IProviderAdapter adapter)
    {
        foreach (var (name, values) in request.Headers)
        {
            if (IsForwarded(name, adapter) && IsProviderSemantic(name) && !IsSendable(values))
                return name;
        }
        return null;
    }

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
            if (IsForwarded(name, adapter) && IsSendable(values))
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

    private static bool IsForwarded(string name, IProviderAdapter adapter) =>
        !NeverForwarded.Contains(name) && !name.StartsWith("x-fko-", StringComparison.OrdinalIgnoreCase)
        && !NeverForwardedPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        && !adapter.IsCredentialHeader(name);

    private static bool IsProviderSemantic(string name)
    {
        foreach (var prefix in ProviderSemanticPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    // RFC 9110 field values as every HTTP version carries them: visible ASCII, space and tab. Encoding the rest
    // (e.g. RFC 8187) would hand the provider a value the client never sent, so it is not done.
    private static readonly SearchValues<char> FieldValueChars = SearchValues.Create(['\t', .. Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c)]);

    private static bool IsSendable(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is not null && value.AsSpan().ContainsAnyExcept(FieldValueChars))
                return false;
        }
        return true;
    }

    private static void AddHeader(HttpRequestMessage message, string name, StringValues values)
    {
        if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
    }
}
