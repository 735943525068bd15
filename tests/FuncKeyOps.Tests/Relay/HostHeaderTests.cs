namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// What a Functions host and Azure's front end add to every request they pass on is about the hop to us, not the
/// client's call: it never reaches the provider. The hosts' headers are sent here to the Server host, as the
/// Functions worker receives them (the local host's shape: /work/shared/functions-host/README.md).
/// </summary>
public class HostHeaderTests
{
    private const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task The_Functions_host_and_front_end_headers_never_reach_the_provider_and_the_clients_own_do()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync();
        var added = new Dictionary<string, string>
        {
            // The Functions host (and its worker's forwarded-headers step).
            ["x-ms-invocation-id"] = "04e54d7a-6d5d-4836-bd9e-30c0908db543",
            ["X-Original-For"] = "127.0.0.1:57060",
            ["X-Original-Host"] = "localhost:35193",
            ["X-Original-Proto"] = "http",
            ["X-Original-URL"] = "/api/relay/openai/v1/chat/completions",
            // Azure's front end and App Service authentication.
            ["X-ARR-LOG-ID"] = "5a8d0a8e-1111-2222-3333-444455556666",
            ["X-SITE-DEPLOYMENT-ID"] = "fko-prod",
            ["WAS-DEFAULT-HOSTNAME"] = "fko-prod.azurewebsites.net",
            ["DISGUISED-HOST"] = "fko-prod.azurewebsites.net",
            ["CLIENT-IP"] = "203.0.113.9:50312",
            ["x-ms-client-principal-name"] = "someone@example.com",
            ["x-ms-token-aad-access-token"] = "eyJhbGciOi.not-for-the-provider",
        };
        var headers = new Dictionary<string, string>(added)
        {
            ["Authorization"] = "Bearer " + secret,
            ["Content-Type"] = "application/json",
            ["x-ms-client-request-id"] = "client-chosen-id", // an Azure SDK's own header: the client's, kept
            ["x-trace"] = "kept",
        };

        var (status, _) = await RawHttp.SendAsync(host.BaseUri, "POST", "/api/relay/openai/v1/chat/completions", headers, ChatBody);

        Assert.Equal(200, status);
        var upstream = Assert.Single(host.OpenAI.Requests);
        var leaked = added.Keys.Where(upstream.Headers.ContainsKey).ToList();
        Assert.True(leaked.Count == 0, "forwarded to the provider: " + string.Join(", ", leaked));
        Assert.Equal("client-chosen-id", upstream.Header("x-ms-client-request-id"));
        Assert.Equal("kept", upstream.Header("x-trace"));
    }
}
