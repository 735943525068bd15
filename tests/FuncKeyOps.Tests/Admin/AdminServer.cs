using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.Admin;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Server;

namespace FuncKeyOps.Tests.Admin;

/// <summary>The real Server host with a fresh admin key in its vault, and helpers to call its admin API.</summary>
internal sealed class AdminServer : IAsyncDisposable
{
    private AdminServer(ServerHost host, string adminKey)
    {
        Host = host;
        AdminKey = adminKey;
    }

    public ServerHost Host { get; }
    public string AdminKey { get; }
    public HttpClient Client => Host.Client;
    public IServiceProvider Services => Host.App.Services;

    /// <param name="sameVaultAs">Another instance of the same deployment: its vault (pepper, admin key) is shared.</param>
    public static async Task<AdminServer> StartAsync(string? storageConnectionString = null, IDictionary<string, string?>? settings = null, TimeProvider? time = null, AdminServer? sameVaultAs = null)
    {
        var vault = sameVaultAs?.Host.Vault ?? await TestVault.StartAsync();
        var adminKey = sameVaultAs?.AdminKey ?? "fake-admin-" + Guid.NewGuid().ToString("N");
        vault.SetSecretDirect("fko-admin-key", adminKey);
        var host = await ServerHost.StartAsync(storageConnectionString, settings, vault, time);
        return new AdminServer(host, adminKey);
    }

    /// <param name="adminKey">The key to send; the right one when null, none when empty.</param>
    public HttpRequestMessage Request(HttpMethod method, string path, string? json = null, string? adminKey = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        if (adminKey != "")
            request.Headers.Add(AdminAuth.HeaderName, adminKey ?? AdminKey);
        return request;
    }

    public async Task<(int Status, JsonDocument Body)> SendAsync(HttpMethod method, string path, string? json = null, string? adminKey = null)
    {
        using var request = Request(method, path, json, adminKey);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonDocument.Parse(text.Length == 0 ? "null" : text));
    }

    /// <summary>Creates a relay key through the admin API and returns its id.</summary>
    public async Task<string> CreateRelayKeyAsync(string json = """{"tenant":"contoso","name":"checkout","providers":["openai"],"rpm":60,"monthlyTokens":1000000}""")
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "api/admin/relay-keys", json);
        using (body)
        {
            Assert.True(status == 201, $"{status}: {body.RootElement}");
            return body.RootElement.GetProperty("id").GetString()!;
        }
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}
