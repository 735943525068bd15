using Google.Apis.Http;

namespace FuncKeyOps.Rotation.Connectors.Gemini;

/// <summary>
/// Hands Google.Apis.Auth the handler of the connector's named HttpClient, so the token exchange gets the same
/// resilience handler (and, in tests, the same primary handler) as the API Keys calls. The factory's handlers ignore
/// Dispose, so Google's client disposing its own wrapper leaves the pool intact.
/// </summary>
internal sealed class GoogleHttpClientFactory(System.Net.Http.IHttpMessageHandlerFactory handlers, string name) : HttpClientFactory
{
    protected override HttpMessageHandler CreateHandler(CreateHttpClientArgs args) => handlers.CreateHandler(name);
}
