using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tests.Relay;

namespace FuncKeyOps.Tests.Tenants;

/// <summary>Tenant-scoped calls through the Server host, with a tenant's relay key or the admin key.</summary>
internal static class TenantCalls
{
    /// <summary>A relay key of <paramref name="tenant"/>, with the byok scope unless told otherwise.</summary>
    public static async Task<string> RelayKeyAsync(RelayHost host, string tenant, bool byok = true)
    {
        var (_, secret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = tenant, Name = "byok", Scopes = byok ? [RelayKeyScopes.Byok] : [] });
        return secret;
    }

    /// <param name="relayKey">Sent as <c>Authorization: Bearer</c>; null sends the admin key instead (or nothing, with <paramref name="admin"/> false).</param>
    public static async Task<(HttpResponseMessage Response, string Text)> SendAsync(RelayHost host, HttpMethod method, string tenant, string provider,
        string? relayKey, object? body = null, bool admin = false)
    {
        using var request = new HttpRequestMessage(method, $"api/tenants/{Uri.EscapeDataString(tenant)}/provider-keys/{provider}");
        if (relayKey is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
        if (admin)
            request.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        var response = await host.Client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    public static Task<(HttpResponseMessage Response, string Text)> PutAsync(RelayHost host, string tenant, string relayKey, string value) =>
        SendAsync(host, HttpMethod.Put, tenant, "openai", relayKey, new { value });

    public static string ErrorCode(string text) => JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString()!;
}
