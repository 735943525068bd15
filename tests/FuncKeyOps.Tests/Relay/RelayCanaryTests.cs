using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.ClientKeys;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Relay;

/// <summary>Provider key values and relay key secrets appear in no log line, audit row, response or exception text.</summary>
public class RelayCanaryTests
{
    [Fact]
    public async Task Secrets_never_leave_through_logs_audit_rows_or_responses()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:Azure"] = "Trace",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
            ["Relay:UpstreamTimeout"] = "00:00:00.300",
        });
        var (key, secret) = await host.CreateRelayKeyAsync();
        var (suspended, suspendedSecret) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "s" });
        await host.Services.GetRequiredService<RelayKeyService>().SuspendAsync(suspended.Id);
        var responses = new StringBuilder();

        async Task Send(HttpMethod method, string path, string? body, Action<HttpRequestHeaders>? auth)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            auth?.Invoke(request.Headers);
            using var response = await host.Client.SendAsync(request);
            responses.Append(response.ToString()).Append(await response.Content.ReadAsStringAsync());
        }

        const string chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";
        Action<HttpRequestHeaders> bearer(string k) => h => h.Authorization = new AuthenticationHeaderValue("Bearer", k);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", """{"model":"gpt-4o-mini","stream":true,"messages":[]}""", bearer(secret));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(suspendedSecret));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret[..^3] + "xyz"));
        await Send(HttpMethod.Post, $"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={secret}", """{"contents":[]}""", null);
        await Send(HttpMethod.Post, "api/relay/anthropic/v1/messages", """{"model":"claude","max_tokens":5,"messages":[]}""", h => h.Add("x-api-key", secret));
        await Send(HttpMethod.Get, "api/relay/azure-openai/openai/models?api-version=2024-10-21", null, h => h.Add("api-key", secret));
        host.OpenAI.FailNext(500, times: 3);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        host.OpenAI.DropNext(times: 3);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        host.OpenAI.HangNext();
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        host.OpenAI.ReleaseHangs();
        host.OpenAI.RevokeKey(host.ProviderKeyValues["openai"]);
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(secret));
        await Send(HttpMethod.Get, "api/admin/relay-keys", null, h => h.Add("x-fko-admin-key", RelayHost.AdminKey));

        var rows = await host.RowsAsync(null);
        Assert.True(rows.Count >= 11);
        var audit = JsonSerializer.Serialize(rows);
        var logs = host.Server.Logs.AllText;
        Assert.Contains("Request starting", logs); // the hosting logs that print URLs were captured

        string[] canaries = [secret, secret[^43..], suspendedSecret, .. host.ProviderKeyValues.Values, RelayHost.AdminKey];
        foreach (var canary in canaries)
        {
            Assert.DoesNotContain(canary, logs);
            Assert.DoesNotContain(canary, audit);
            Assert.DoesNotContain(canary, responses.ToString());
        }
    }
}
