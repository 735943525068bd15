using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>
/// generativelanguage.googleapis.com. Clients send the key as <c>x-goog-api-key</c> or <c>?key=</c>; the model is
/// in the path (<c>v1beta/models/{model}:generateContent</c>, <c>:streamGenerateContent</c>, <c>:countTokens</c>,
/// <c>:embedContent</c>, <c>:batchEmbedContents</c>, or <c>v1beta/tunedModels/{model}:...</c>), and the method decides
/// whether it streams. A batch's requests also name a model each; one that is not the path's is the call's model.
/// </summary>
public sealed class GeminiAdapter : IProviderAdapter
{
    public string Name => ProviderNames.Gemini;

    public string ValidationPath => "v1beta/models";

    public string? ReadClientKey(HttpRequest request) =>
        ClientCredentials.ReadHeader(request, "x-goog-api-key") ?? ClientCredentials.ReadQuery(request, "key");

    public bool IsCredentialHeader(string headerName) => ClientCredentials.IsHeader(headerName);

    public bool IsCredentialQueryParameter(string name) => ClientCredentials.IsQueryParameter(name);

    // The header, never ?key=: a key in the URL ends up in proxy and server logs.
    public void ApplyProviderKey(HttpRequestMessage upstream, string providerKey)
    {
        upstream.Headers.Remove("x-goog-api-key");
        upstream.Headers.TryAddWithoutValidation("x-goog-api-key", providerKey);
    }

    /// <remarks>
    /// The model is in the path, checked against a model allow-list like a body model (the body's own <c>model</c>
    /// members are not what Gemini runs). Listing models runs none; every other path (files, cached contents,
    /// batches, operations) is refused under an allow-list, as the relay cannot tell which model it ends up serving.
    /// </remarks>
    public RequestPlan PlanRequest(string method, string path, ReadOnlyMemory<byte> body)
    {
        var (model, action) = ParsePath(path);
        if (model is not null && action == "batchEmbedContents")
            model = GeminiBatchModels.FirstOther(body.Span, model) ?? model;
        var scope = model is not null ? ModelScope.Named
            : HttpMethods.IsGet(method) && IsModelList(path) ? ModelScope.None
            : ModelScope.Unknown;
        return new RequestPlan(body, model, Streaming: action == "streamGenerateContent", StripUsageOnlyChunk: false) { ModelScope = scope };
    }

    // {version}/models, whatever the version.
    private static bool IsModelList(string path)
    {
        var trimmed = path.AsSpan().Trim('/');
        var slash = trimmed.IndexOf('/');
        return slash > 0 && trimmed[(slash + 1)..].SequenceEqual("models");
    }

    public IUsageReader CreateUsageReader(RequestPlan plan) => new GeminiUsageReader();

    /// <summary>
    /// Google sends no rate-limit headers, and its 429 (<c>RESOURCE_EXHAUSTED</c>) is always a quota of the key's
    /// project; a request too large is a 400 <c>INVALID_ARGUMENT</c>.
    /// </summary>
    public bool IsKeyLimitSpent(HttpResponseMessage response) => true;

    /// <summary>Google answers a wrong or deleted key with 400 INVALID_ARGUMENT and an ErrorInfo reason <c>API_KEY_INVALID</c>, a restricted one with 403.</summary>
    public bool IsProviderKeyRefusal(int status, ReadOnlySpan<byte> errorBody) =>
        status is 401 or 403 || status == 400 && GoogleErrors.HasReason(errorBody, "API_KEY_INVALID");

    /// <summary>
    /// Google's <c>{"error":{"code":&lt;status&gt;,"message","status"}}</c>. Its code member is the HTTP status, so the
    /// relay's code goes where Google puts machine-readable reasons: an ErrorInfo detail (<c>reason</c>), as in
    /// Google's own <c>API_KEY_INVALID</c> errors.
    /// </summary>
    public byte[] FormatError(int status, string code, string message) => ErrorJson.Write((status, code, message), static (writer, error) =>
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteNumber("code", error.status);
        writer.WriteString("message", error.message);
        writer.WriteString("status", Status(error.status));
        writer.WriteStartArray("details");
        writer.WriteStartObject();
        writer.WriteString("@type", "type.googleapis.com/google.rpc.ErrorInfo");
        writer.WriteString("reason", error.code.ToUpperInvariant());
        writer.WriteString("domain", "funckeyops");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    });

    /// <summary>The google.rpc canonical code Google pairs with each HTTP status.</summary>
    internal static string Status(int status) => status switch
    {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        502 or 503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        >= 500 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    };

    /// <summary>
    /// <c>{version}/models/{id}:{action}</c> gives the bare id (what allow-lists name, e.g. <c>gemini-2.0-flash</c>);
    /// <c>{version}/tunedModels/{id}:{action}</c> keeps its prefix so a tuned model never matches a base model's name.
    /// </summary>
    internal static (string? Model, string? Action) ParsePath(string path)
    {
        var rest = path.AsSpan().Trim('/');
        var slash = rest.IndexOf('/');
        if (slash < 0)
            return (null, null);
        rest = rest[(slash + 1)..];

        var colon = rest.LastIndexOf(':');
        var resource = colon < 0 ? rest : rest[..colon];
        var action = colon < 0 ? null : new string(rest[(colon + 1)..]);

        if (resource.StartsWith("models/", StringComparison.Ordinal))
            return (Id(resource["models/".Length..]), action);
        if (resource.StartsWith("tunedModels/", StringComparison.Ordinal) && Id(resource["tunedModels/".Length..]) is not null)
            return (new string(resource), action);
        return (null, action);
    }

    private static string? Id(ReadOnlySpan<char> id) => id.IsEmpty || id.Contains('/') ? null : new string(id);
}
