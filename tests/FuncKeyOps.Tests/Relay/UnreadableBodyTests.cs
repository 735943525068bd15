using System.Net.Http.Headers;
using System.Text.Json;
using FuncKeyOps.Admin;

namespace FuncKeyOps.Tests.Relay;

/// <summary>One body, one code: what the relay cannot read as JSON the admin API refuses with the same code.</summary>
public class UnreadableBodyTests
{
    public static TheoryData<string, byte[]> Bodies => new()
    {
        { "not UTF-8", [0x7B, 0x22, 0x6E, 0x61, 0x6D, 0x65, 0x22, 0x3A, 0x22, 0x63, 0x61, 0x66, 0xE9, 0x22, 0x7D] }, // {"name":"caf\xE9"}
        { "cut short", "{\"name\":"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task The_relay_and_the_admin_api_give_an_unreadable_body_the_same_code(string what, byte[] body)
    {
        await using var host = await RelayHost.StartAsync();
        var (_, secret) = await host.CreateRelayKeyAsync();

        using var relayCall = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions") { Content = Json(body) };
        relayCall.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var relayed = await host.Client.SendAsync(relayCall);
        using var adminCall = new HttpRequestMessage(HttpMethod.Post, "api/admin/relay-keys") { Content = Json(body) };
        adminCall.Headers.Add(AdminAuth.HeaderName, RelayHost.AdminKey);
        using var administered = await host.Client.SendAsync(adminCall);

        var adminCode = await CodeAsync(administered);
        Assert.Equal((400, "invalid_request_body"), ((int)administered.StatusCode, adminCode));
        if (what == "not UTF-8") // a body cut short is the provider's to judge: the relay forwards JSON it need not read
            Assert.Equal((400, adminCode), ((int)relayed.StatusCode, await CodeAsync(relayed)));
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task<string?> CodeAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("error").GetProperty("code").GetString();
    }
}
