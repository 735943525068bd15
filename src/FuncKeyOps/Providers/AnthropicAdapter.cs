using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>
/// api.anthropic.com. The official SDKs send an API key as <c>x-api-key</c> and an auth token as
/// <c>Authorization: Bearer</c>, with the paths under the base URL (<c>v1/messages</c>, <c>v1/models</c>).
/// </summary>
public sealed class AnthropicAdapter : IProviderAdapter
{
    public string Name => ProviderNames.Anthropic;

    public string ValidationPath => "v1/models";

    /// <summary>The API answers 400 to any call without <c>anthropic-version</c>; the SDKs send this one.</summary>
    internal const string ApiVersion = "2023-06-01";

    public HttpRequestMessage CreateValidationRequest(Uri upstreamUri, string providerKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, upstreamUri);
        ApplyProviderKey(request, providerKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", ApiVersion);
        return request;
    }

    // x-api-key first: the SDKs prefer ANTHROPIC_API_KEY when both it and ANTHROPIC_AUTH_TOKEN are set.
    public string? ReadClientKey(HttpRequest request) =>
        ClientCredentials.ReadHeader(request, "x-api-key") ?? ClientCredentials.ReadBearer(request);

    public bool IsCredentialHeader(string headerName) => ClientCredentials.IsHeader(headerName);

    public bool IsCredentialQueryParameter(string name) => ClientCredentials.IsQueryParameter(name);

    public void ApplyProviderKey(HttpRequestMessage upstream, string providerKey)
    {
        upstream.Headers.Remove("x-api-key");
        upstream.Headers.TryAddWithoutValidation("x-api-key", providerKey);
    }

    public RequestPlan PlanRequest(string method, string path, ReadOnlyMemory<byte> body)
    {
        var request = RequestFields.Read(body.Span);
        var scope = Scope(method, ApiPaths.Under(path, "v1/"));
        if (scope == ModelScope.Named && request.Model is null)
            scope = ModelScope.Unreadable;
        return request.IsObject
            ? new RequestPlan(body, request.Model, request.Stream, StripUsageOnlyChunk: false) { ModelScope = scope }
            : new RequestPlan(body, Model: null, Streaming: false, StripUsageOnlyChunk: false) { ModelScope = scope };
    }

    /// <summary>
    /// Messages (and counting their tokens, and the legacy completions) run the body's model; reading models runs
    /// none. Everything else is refused under a model allow-list: message batches run the models inside their
    /// requests, files feed them.
    /// </summary>
    private static ModelScope Scope(string method, string? apiPath)
    {
        if (ApiPaths.ReadsModels(method, apiPath))
            return ModelScope.None;
        return HttpMethods.IsPost(method) && apiPath is "messages" or "messages/count_tokens" or "complete" ? ModelScope.Named : ModelScope.Unknown;
    }

    public IUsageReader CreateUsageReader(RequestPlan plan) => new AnthropicUsageReader();

    /// <summary>
    /// <c>{"type":"error","error":{"type","message","details":{"error_code"}}}</c>. The type comes from the status (the
    /// SDKs pick their exception class from the status too); the relay's code goes where Anthropic puts a stable cause,
    /// <c>error.details.error_code</c>, which the SDK exposes as the exception's <c>ErrorCode</c>.
    /// </summary>
    public byte[] FormatError(int status, string code, string message) => ErrorJson.Write((status, code, message), static (writer, error) =>
    {
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteStartObject("error");
        writer.WriteString("type", Type(error.status));
        writer.WriteString("message", error.message);
        writer.WriteStartObject("details");
        writer.WriteString("error_code", error.code);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    // Anthropic's documented types per status; 503 is reported as overloaded, like its own 529.
    internal static string Type(int status) => status switch
    {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        504 => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}
