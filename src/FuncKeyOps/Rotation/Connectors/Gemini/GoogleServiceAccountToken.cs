using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;

namespace FuncKeyOps.Rotation.Connectors.Gemini;

/// <summary>
/// An OAuth2 access token for a Google service account: Google.Apis.Auth signs the JWT bearer assertion with the
/// account's private key and exchanges it at the account's <c>token_uri</c> (scope cloud-platform, which the API Keys
/// API accepts), over the connector's named HttpClient handler. The JSON key comes from Key Vault and lives only for the call.
/// </summary>
internal static class GoogleServiceAccountToken
{
    private const string Scope = "https://www.googleapis.com/auth/cloud-platform";

    public static async Task<string> GetAsync(string serviceAccountJson, Google.Apis.Http.IHttpClientFactory http, CancellationToken cancellationToken)
    {
        ITokenAccess credential;
        try
        {
            credential = CredentialFactory.FromJson<ServiceAccountCredential>(serviceAccountJson).ToGoogleCredential().CreateScoped(Scope).CreateWithHttpClientFactory(http);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or Newtonsoft.Json.JsonException)
        {
            // The library's message may quote the JSON; only say what is wrong with it.
            throw new ProviderCallException(GeminiKeyConnector.ConnectorName, "reading the service-account key", 400, "SERVICE_ACCOUNT_KEY_UNREADABLE");
        }

        try
        {
            return await credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken);
        }
        catch (TokenResponseException e)
        {
            // invalid_grant and friends: a bad, disabled or deleted service-account key.
            throw new ProviderCallException(GeminiKeyConnector.ConnectorName, "the token exchange", (int?)e.StatusCode ?? 400, e.Error?.Error);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderCallException(GeminiKeyConnector.ConnectorName, "the token exchange", (int?)e.StatusCode ?? 0);
        }
    }
}
