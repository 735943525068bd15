using System.Text.Json;

namespace FuncKeyOps.Tests.Relay;

/// <summary>The relay's own 401 in each provider's error shape, as a host answers it; shared by both hosts' tests.</summary>
internal static class ProviderErrorShapes
{
    public static async Task AssertEachProvidersShapeAsync(HttpClient client)
    {
        using var anthropic = new HttpRequestMessage(HttpMethod.Post, "api/relay/anthropic/v1/messages") { Content = new StringContent("{}") };
        anthropic.Headers.Add("x-api-key", "fko_wrongwrongwr_" + new string('A', 43));
        var a = JsonDocument.Parse(await (await client.SendAsync(anthropic)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", a.GetProperty("type").GetString());
        Assert.Equal("authentication_error", a.GetProperty("error").GetProperty("type").GetString());

        var g = await client.PostAsync("api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent", new StringContent("{}"));
        var gemini = JsonDocument.Parse(await g.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(401, gemini.GetProperty("code").GetInt32());
        Assert.Equal("UNAUTHENTICATED", gemini.GetProperty("status").GetString());

        var z = await client.PostAsync("api/relay/azure-openai/openai/deployments/d/chat/completions?api-version=2024-10-21", new StringContent("{}"));
        var azure = JsonDocument.Parse(await z.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("invalid_relay_key", azure.GetProperty("code").GetString());
    }
}
