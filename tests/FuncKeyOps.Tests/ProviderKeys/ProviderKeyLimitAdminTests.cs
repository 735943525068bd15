using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>The RPM/TPM ceilings a provider key carries, through <c>PUT provider-keys/{name}</c>.</summary>
public class ProviderKeyLimitAdminTests
{
    private static HttpRequestMessage Put(string name, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "api/admin/provider-keys/" + name);
        request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public async Task Ceilings_are_stored_shown_and_cleared_with_null()
    {
        await using var host = await RelayHost.StartAsync();
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();

        using (var created = await host.Client.SendAsync(Put("openai-limited",
            """{"provider":"openai","baseUrl":"https://api.openai.com/","rpm":60,"tpm":150000}""")))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var shown = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((60, 150_000L), (shown.GetProperty("rpm").GetInt32(), shown.GetProperty("tpm").GetInt64()));
        }
        var stored = (await registry.GetAsync("openai-limited"))!;
        Assert.Equal((60, 150_000L), (stored.Rpm, stored.Tpm));

        using (var get = new HttpRequestMessage(HttpMethod.Get, "api/admin/provider-keys/openai-limited"))
        {
            get.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
            using var response = await host.Client.SendAsync(get);
            var key = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("key");
            Assert.Equal((60, 150_000L), (key.GetProperty("rpm").GetInt32(), key.GetProperty("tpm").GetInt64()));
        }

        using (var cleared = await host.Client.SendAsync(Put("openai-limited",
            """{"provider":"openai","baseUrl":"https://api.openai.com/","rpm":null}""")))
        {
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
            var shown = JsonDocument.Parse(await cleared.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(JsonValueKind.Null, shown.GetProperty("rpm").ValueKind);
            Assert.Equal(JsonValueKind.Null, shown.GetProperty("tpm").ValueKind);
        }
        stored = (await registry.GetAsync("openai-limited"))!;
        Assert.Equal((null, null), (stored.Rpm, stored.Tpm));
    }

    [Theory]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","rpm":0}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","rpm":-5}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","tpm":0}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","tpm":-1}""", "invalid_request")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","rpm":1.5}""", "invalid_request_body")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","rpm":"60"}""", "invalid_request_body")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","tpm":true}""", "invalid_request_body")]
    [InlineData("""{"provider":"openai","baseUrl":"https://x.example/","rpm":3000000000}""", "invalid_request_body")]
    public async Task Ceilings_that_are_not_positive_integers_are_400(string json, string code)
    {
        await using var host = await RelayHost.StartAsync();
        using var response = await host.Client.SendAsync(Put("bad-limits", json));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, body.GetProperty("error").GetProperty("code").GetString());
        Assert.Null(await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("bad-limits"));
    }
}
