using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FuncKeyOps.Tests.Relay;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>Admin and relay calls the provider-key tests make through the Server host.</summary>
internal static class ProviderKeyCalls
{
    public const string ChatBody = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    public static HttpRequestMessage Admin(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, "api/admin/" + path);
        request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        return request;
    }

    public static Task<(HttpResponseMessage Response, JsonElement Body)> AdminAsync(RelayHost host, HttpMethod method, string path, object? body = null) =>
        AdminAsync(host.Client, method, path, body);

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> AdminAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = Admin(method, path, body);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Registers a provider key through the admin API.</summary>
    public static async Task RegisterAsync(RelayHost host, string name, string provider, Uri baseUrl)
    {
        var (response, _) = await AdminAsync(host, HttpMethod.Put, $"provider-keys/{name}", new { provider, baseUrl = baseUrl.ToString(), secretName = name });
        Assert.True(response.IsSuccessStatusCode, $"register {name}: {response.StatusCode}");
    }

    /// <summary>Creates a relay key through the admin API (<c>POST relay-keys</c>, e.g. with its <c>providerKeys</c> bindings); its id and secret.</summary>
    public static async Task<(string Id, string Secret)> CreateRelayKeyAsync(HttpClient client, object spec)
    {
        var (response, body) = await AdminAsync(client, HttpMethod.Post, "relay-keys", spec);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"{response.StatusCode}: {body}");
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    /// <summary>Stages a value through the admin API and returns the new version id.</summary>
    public static async Task<string> StageAsync(RelayHost host, string name, string value)
    {
        var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return body.GetProperty("version").GetString()!;
    }

    public static HttpRequestMessage OpenAIChat(string relayKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions") { Content = new StringContent(ChatBody, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        return request;
    }
}
