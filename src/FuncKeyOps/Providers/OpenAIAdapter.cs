using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace FuncKeyOps.Providers;

/// <summary>
/// api.openai.com. SDKs send <c>Authorization: Bearer &lt;key&gt;</c> and use a base URL that ends in <c>/v1</c>
/// (the official .NET SDK's default endpoint is <c>https://api.openai.com/v1</c>), so relay paths arrive as
/// <c>v1/chat/completions</c>, <c>v1/responses</c>, <c>v1/embeddings</c>.
/// </summary>
public sealed class OpenAIAdapter : IProviderAdapter
{
    public string Name => ProviderNames.OpenAI;

    public string ValidationPath => "v1/models";

    public string? ReadClientKey(HttpRequest request) => ClientCredentials.ReadBearer(request);

    public bool IsCredentialHeader(string headerName) => ClientCredentials.IsHeader(headerName);

    public bool IsCredentialQueryParameter(string name) => ClientCredentials.IsQueryParameter(name);

    public void ApplyProviderKey(HttpRequestMessage upstream, string providerKey) =>
        upstream.Headers.Authorization = new AuthenticationHeaderValue("Bearer", providerKey);

    public RequestPlan PlanRequest(string method, string path, ReadOnlyMemory<byte> body) =>
        OpenAIRequests.Plan(path, body, chatAcceptsStreamOptions: true, OpenAIRequests.Scope(method, ApiPaths.Under(path, "v1/")));

    public IUsageReader CreateUsageReader(RequestPlan plan) => new OpenAIUsageReader(plan.StripUsageOnlyChunk);

    public byte[] FormatError(int status, string code, string message) => OpenAIErrors.Format(status, code, message);
}
