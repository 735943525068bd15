using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Tests.Relay;

/// <summary>
/// A relay key limited to some models only makes calls whose one model the relay can read and check: a body it
/// cannot read unambiguously is a 400 and a path that may run any model a 403, both never forwarded. The tests
/// only read (each its own key and rows), so they share one host.
/// </summary>
public class ModelAllowListTests(SharedRelayHost shared) : IClassFixture<SharedRelayHost>
{
    private const string Allowed = "allowed-model";

    /// <summary>Bodies whose model the relay cannot determine, with why; each would otherwise reach the provider.</summary>
    public static TheoryData<string, string> UnreadableBodies => new()
    {
        { "number", """{"model":123,"messages":[]}""" },
        { "array", $$"""{"model":["{{Allowed}}"],"messages":[]}""" },
        { "null", """{"model":null,"messages":[]}""" },
        { "object", $$"""{"model":{"id":"{{Allowed}}"},"messages":[]}""" },
        { "missing", """{"messages":[]}""" },
        { "byte order mark", "\uFEFF" + $$"""{"model":"{{Allowed}}","messages":[]}""" },
        { "too deep", $$"""{"model":"{{Allowed}}","x":{{new string('[', 300)}}{{new string(']', 300)}}}""" },
        { "trailing value", $$"""{"model":"{{Allowed}}","messages":[]} {"model":"other-model"}""" },
        { "trailing bytes", $$"""{"model":"{{Allowed}}","messages":[]}x""" },
        { "repeated, allowed first", $$"""{"model":"{{Allowed}}","model":"other-model","messages":[]}""" },
        { "repeated, allowed last", $$"""{"model":"other-model","model":"{{Allowed}}","messages":[]}""" },
        { "repeated, escaped name", $$"""{"model":"{{Allowed}}","mod\u0065l":"other-model"}""" },
        { "repeated, other case", $$"""{"model":"{{Allowed}}","Model":"other-model"}""" },
        { "not JSON", $"model={Allowed}" },
        { "array root", $$"""[{"model":"{{Allowed}}"}]""" },
        { "empty", "" },
    };

    public static TheoryData<string> BodyModelProviders => new() { "openai", "anthropic", "azure-openai" };

    [Theory]
    [MemberData(nameof(UnreadableBodies))]
    public async Task A_body_whose_model_cannot_be_read_is_400_in_the_provider_shape_and_never_forwarded(string why, string body)
    {
        var host = shared.Host;
        var before = shared.Snapshot();
        var (key, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "limited", Models = [Allowed] });

        foreach (var provider in new[] { "openai", "anthropic", "azure-openai" })
        {
            using var response = await host.Client.SendAsync(Request(provider, HttpMethod.Post, BodyModelPath(provider), secret, body));
            await ExpectError(provider, response, HttpStatusCode.BadRequest, "model_unreadable", why);
        }

        shared.AssertNothingForwardedSince(before);
        var rows = await host.RowsAsync(key.Id);
        Assert.Equal(3, rows.Count(r => r.Status == 400 && r.ErrorCode == "model_unreadable"));
    }

    [Fact]
    public async Task A_compressed_body_is_unreadable_and_never_forwarded()
    {
        var host = shared.Host;
        var before = shared.Snapshot();
        var (_, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "limited", Models = [Allowed] });
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes($$"""{"model":"{{Allowed}}","messages":[]}"""));

        foreach (var provider in new[] { "openai", "anthropic", "azure-openai" })
        {
            using var request = Request(provider, HttpMethod.Post, BodyModelPath(provider), secret, null);
            request.Content = new ByteArrayContent(gzipped.ToArray());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Content.Headers.ContentEncoding.Add("gzip");
            using var response = await host.Client.SendAsync(request);
            await ExpectError(provider, response, HttpStatusCode.BadRequest, "model_unreadable", "gzip");
        }
        shared.AssertNothingForwardedSince(before);
    }

    [Fact]
    public async Task A_readable_allowed_model_is_forwarded_and_a_key_without_a_list_is_not_checked()
    {
        var host = shared.Host;
        var before = shared.Snapshot();
        var (_, limited) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "limited", Models = [Allowed] });
        var (_, open) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "open" });

        foreach (var provider in new[] { "openai", "anthropic", "azure-openai" })
        {
            (await host.Client.SendAsync(Request(provider, HttpMethod.Post, BodyModelPath(provider), limited, $$"""{"model":"{{Allowed}}","max_tokens":5,"messages":[]}"""))).Dispose();
            Assert.Equal(1, shared.ReceivedSince(before, provider));
            (await host.Client.SendAsync(Request(provider, HttpMethod.Post, BodyModelPath(provider), open, """{"model":123,"messages":[]}"""))).Dispose();
            Assert.Equal(2, shared.ReceivedSince(before, provider));
        }
    }

    [Theory]
    // Listing or reading models runs none: allowed.
    [InlineData("openai", "GET", "v1/models", null, true)]
    [InlineData("anthropic", "GET", "v1/models", null, true)]
    [InlineData("anthropic", "GET", "v1/models/claude-haiku-4-5", null, true)]
    [InlineData("gemini", "GET", "v1beta/models", null, true)]
    [InlineData("azure-openai", "GET", "openai/models?api-version=2024-10-21", null, true)]
    // A model in the path is checked like a body model.
    [InlineData("gemini", "POST", "v1beta/models/" + Allowed + ":generateContent", """{"contents":[]}""", true)]
    [InlineData("gemini", "POST", "v1beta/models/gemini-2.0-flash:generateContent", $$"""{"contents":[],"model":"{{Allowed}}"}""", false)]
    [InlineData("gemini", "POST", "v1beta/models/a/b:generateContent", """{"contents":[]}""", false)]
    [InlineData("azure-openai", "POST", "openai/deployments/" + Allowed + "/chat/completions?api-version=2024-10-21", """{"model":123,"messages":[]}""", true)]
    [InlineData("azure-openai", "POST", "openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", $$"""{"model":"{{Allowed}}","messages":[]}""", false)]
    // Batches, files, caches and paths the relay does not know may run any model: refused.
    [InlineData("openai", "POST", "v1/batches", $$"""{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h","model":"{{Allowed}}"}""", false)]
    [InlineData("openai", "POST", "v1/files", $$"""{"purpose":"batch","model":"{{Allowed}}"}""", false)]
    [InlineData("openai", "GET", "v1/chat/completions/chatcmpl-1", null, false)]
    [InlineData("anthropic", "POST", "v1/messages/batches", $$$"""{"requests":[{"custom_id":"a","params":{"model":"claude-opus-4","max_tokens":5,"messages":[]}}],"model":"{{{Allowed}}}"}""", false)]
    [InlineData("gemini", "POST", "v1beta/cachedContents", """{"model":"models/gemini-2.5-pro","contents":[]}""", false)]
    [InlineData("azure-openai", "POST", "openai/v1/batches", $$"""{"input_file_id":"file-1","model":"{{Allowed}}"}""", false)]
    [InlineData("azure-openai", "POST", "openai/files?api-version=2024-10-21", "{}", false)]
    public async Task Paths_without_a_body_model_are_allowed_only_when_their_model_is_known(string provider, string method, string path, string? body, bool forwarded)
    {
        var host = shared.Host;
        var before = shared.Snapshot();
        var (_, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "limited", Models = [Allowed] });

        using var response = await host.Client.SendAsync(Request(provider, new HttpMethod(method), path, secret, body));

        if (forwarded)
        {
            Assert.Equal(1, shared.ReceivedSince(before, provider));
            return;
        }
        await ExpectError(provider, response, HttpStatusCode.Forbidden, "model_not_allowed", path);
        shared.AssertNothingForwardedSince(before);
    }

    private static string BodyModelPath(string provider) => provider switch
    {
        "openai" => "v1/chat/completions",
        "anthropic" => "v1/messages",
        _ => "openai/v1/chat/completions",
    };

    private static HttpRequestMessage Request(string provider, HttpMethod method, string path, string relayKey, string? body)
    {
        var request = new HttpRequestMessage(method, $"api/relay/{provider}/{path}");
        if (body is not null)
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } };
        switch (provider)
        {
            case "anthropic": request.Headers.Add("x-api-key", relayKey); break;
            case "gemini": request.Headers.Add("x-goog-api-key", relayKey); break;
            case "azure-openai": request.Headers.Add("api-key", relayKey); break;
            default: request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey); break;
        }
        return request;
    }

    /// <summary>The status, and the relay's code where the provider's own error shape carries it.</summary>
    private static async Task ExpectError(string provider, HttpResponseMessage response, HttpStatusCode status, string code, string why)
    {
        Assert.True(status == response.StatusCode, $"{provider} ({why}): {(int)response.StatusCode}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, await ReadCode(provider, response));
    }

    private static async Task<string?> ReadCode(string provider, HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        switch (provider)
        {
            case "anthropic":
                // Anthropic's shape has no code: its type follows the status.
                Assert.Equal("error", json.RootElement.GetProperty("type").GetString());
                return ((int)response.StatusCode, error.GetProperty("type").GetString()) switch
                {
                    (400, "invalid_request_error") => "model_unreadable",
                    (403, "permission_error") => "model_not_allowed",
                    var other => other.ToString(),
                };
            case "gemini":
                Assert.Equal((int)response.StatusCode, error.GetProperty("code").GetInt32());
                return error.GetProperty("details")[0].GetProperty("reason").GetString()!.ToLowerInvariant();
            default:
                return error.GetProperty("code").GetString();
        }
    }
}
