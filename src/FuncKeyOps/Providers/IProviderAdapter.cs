using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>
/// Everything the relay needs to know about one provider's wire format: where clients put their key, how the
/// provider key goes upstream, where the model is, how usage is reported, and the provider's error shape.
/// One stateless, thread-safe instance per provider.
/// </summary>
public interface IProviderAdapter
{
    /// <summary>Route name: <c>openai</c>, <c>anthropic</c>, <c>gemini</c> or <c>azure-openai</c>.</summary>
    string Name { get; }

    /// <summary>A cheap authenticated call that proves a key works (rotation's validate step), relative to the base URL.</summary>
    string ValidationPath { get; }

    /// <summary>
    /// The validation call for <paramref name="providerKey"/>: a GET of <see cref="ValidationPath"/> under the key's
    /// base URL, with the key applied as on relayed calls. Adapters add any header the provider requires.
    /// </summary>
    HttpRequestMessage CreateValidationRequest(Uri upstreamUri, string providerKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, upstreamUri);
        ApplyProviderKey(request, providerKey);
        return request;
    }

    /// <summary>The relay key as the client's SDK sends it where it would send the provider key; null when absent.</summary>
    string? ReadClientKey(HttpRequest request);

    /// <summary>True for headers that carry client credentials; they are never forwarded.</summary>
    bool IsCredentialHeader(string headerName);

    /// <summary>True for query parameters that carry client credentials (Gemini's <c>key</c>); never forwarded.</summary>
    bool IsCredentialQueryParameter(string name);

    /// <summary>Puts the provider key on the upstream request the way the provider expects it.</summary>
    void ApplyProviderKey(HttpRequestMessage upstream, string providerKey);

    /// <summary>
    /// Reads the request: model (from the JSON body or the path), whether it streams, and the body to send
    /// upstream (an adapter may change it, e.g. OpenAI asks for stream usage the client did not ask for).
    /// Never throws on malformed JSON: a body it cannot read has no model (<see cref="ModelScope.Unreadable"/> where the
    /// path runs the body's model), which a relay key with a model list may not send; others' go upstream unchanged.
    /// </summary>
    RequestPlan PlanRequest(string method, string path, ReadOnlyMemory<byte> body);

    /// <summary>
    /// As <see cref="PlanRequest(string, string, ReadOnlyMemory{byte})"/>, also given the request's raw query string
    /// (<c>?a=b</c> or empty). The relay should call this one: Azure OpenAI only accepts <c>stream_options</c> from
    /// api-version 2024-08-01-preview on, so the adapter must see <c>api-version</c> before it adds stream usage.
    /// </summary>
    RequestPlan PlanRequest(string method, string path, string? query, ReadOnlyMemory<byte> body) => PlanRequest(method, path, body);

    /// <summary>A fresh reader for one response; fed the response as it streams through.</summary>
    IUsageReader CreateUsageReader(RequestPlan plan);

    /// <summary>The provider's own error JSON, so SDKs surface our errors like the provider's.</summary>
    byte[] FormatError(int status, string code, string message);

    /// <summary>
    /// True when an error answer says the provider refuses the key itself (401 and 403 always; Google also with a 400
    /// whose reason is <c>API_KEY_INVALID</c>), as opposed to failing or not knowing the call. The relay then answers
    /// 502 itself; an activation refuses the value instead of reporting a provider fault.
    /// </summary>
    bool IsProviderKeyRefusal(int status, ReadOnlySpan<byte> errorBody) => status is 401 or 403;

    /// <summary>
    /// True when a 429 says the key's own limit is spent (its rate-limit headers show nothing remaining), so a pool
    /// member should rest; false when it is about the one request (too large for the per-minute limit): that is the
    /// call's answer, and says nothing about the key that another tenant's call should pay for.
    /// </summary>
    bool IsKeyLimitSpent(HttpResponseMessage response) => RateLimitHeaders.ShowSpent(response);
}
