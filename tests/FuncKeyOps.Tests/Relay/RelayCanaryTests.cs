using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
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

    /// <summary>
    /// Every secret the relay knows of, placed in every part of a request a client controls (provider slot, provider
    /// path, model in the path and in the body, query, method, User-Agent, credential, forwarding and unknown headers, body),
    /// reaches no column of any audit row (as stored in Table Storage and as the admin API serves it), no log line
    /// and no answer of the relay.
    /// </summary>
    [Fact]
    public async Task Canaries_in_every_request_part_reach_no_audit_column_log_line_or_answer()
    {
        await using var host = await RelayHost.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Trace",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
            ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Trace",
        });
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        var (_, limitedKey) = await host.CreateRelayKeyAsync(new RelayKeySpec { Tenant = "t", Name = "limited", Models = ["gpt-4o-mini"] });
        string[] canaries = [relayKey, relayKey[^RelayKeyFormat.SecretLength..], limitedKey, .. host.ProviderKeyValues.Values, RelayHost.AdminKey];
        var answers = new StringBuilder();
        var requestIds = new List<(string Id, string Request)>();

        async Task Send(HttpMethod method, string path, string? body = null, Action<HttpRequestHeaders>? headers = null)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            headers?.Invoke(request.Headers);
            using var response = await host.Client.SendAsync(request);
            answers.Append(response.ToString()).Append(await response.Content.ReadAsStringAsync());
            if (response.Headers.TryGetValues("x-fko-request-id", out var ids))
                requestIds.Add((ids.Single(), $"{method} {path}"));
        }
        Action<HttpRequestHeaders> bearer(string key) => h => h.Authorization = new AuthenticationHeaderValue("Bearer", key);
        const string chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

        // The instance masks vault values it has read: the admin key and every provider key are read first, as in use.
        await Send(HttpMethod.Get, "api/admin/relay-keys", headers: h => h.Add("x-fko-admin-key", RelayHost.AdminKey));
        await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, bearer(relayKey));
        await Send(HttpMethod.Post, "api/relay/anthropic/v1/messages", """{"model":"claude","max_tokens":5,"messages":[]}""", h => h.Add("x-api-key", relayKey));
        await Send(HttpMethod.Post, "api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent", """{"contents":[]}""", h => h.Add("x-goog-api-key", relayKey));
        await Send(HttpMethod.Post, "api/relay/azure-openai/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", chat, h => h.Add("api-key", relayKey));

        foreach (var canary in canaries)
        {
            // Path segments: the provider slot, the provider path, a model in the path.
            await Send(HttpMethod.Post, $"api/relay/{canary}/v1/chat/completions", chat, bearer(relayKey));
            await Send(HttpMethod.Post, $"api/relay/openai/v1/{canary}/completions", chat, bearer(limitedKey));
            await Send(HttpMethod.Get, $"api/relay/openai/{canary}");
            await Send(HttpMethod.Post, $"api/relay/gemini/v1beta/models/{canary}:generateContent", """{"contents":[]}""", h => h.Add("x-goog-api-key", limitedKey));
            // Query string.
            await Send(HttpMethod.Post, $"api/relay/openai/v1/chat/completions?debug={canary}&key={canary}", chat, bearer(relayKey));
            await Send(HttpMethod.Post, $"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={canary}", """{"contents":[]}""");
            // Method.
            await Send(new HttpMethod(canary), "api/relay/openai/v1/chat/completions");
            // Headers: User-Agent, every credential header style, an unknown header, a cookie.
            await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, h =>
            {
                h.Authorization = new AuthenticationHeaderValue("Bearer", relayKey);
                h.TryAddWithoutValidation("User-Agent", $"probe/1.0 ({canary})");
                h.Add("x-api-key", canary);
                h.Add("api-key", canary);
                h.Add("x-goog-api-key", canary);
                h.Add("X-Debug-Token", canary);
                h.Add("Cookie", "session=" + canary);
                h.TryAddWithoutValidation("X-Forwarded-For", canary);
                h.TryAddWithoutValidation("Forwarded", "for=" + canary);
            });
            await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", chat, h =>
            {
                h.Authorization = new AuthenticationHeaderValue("Bearer", canary);
                h.TryAddWithoutValidation("User-Agent", canary);
            });
            await Send(HttpMethod.Post, "api/relay/anthropic/v1/messages", """{"model":"claude","max_tokens":5,"messages":[]}""", h => h.Add("x-api-key", canary));
            // Body: content and other members are forwarded as sent; a model is checked and audited.
            await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions",
                $$"""{"model":"gpt-4o-mini","user":"{{canary}}","messages":[{"role":"user","content":"{{canary}}"}]}""", bearer(relayKey));
            await Send(HttpMethod.Post, "api/relay/openai/v1/chat/completions", $$"""{"model":"{{canary}}","messages":[]}""", bearer(limitedKey));
        }

        var records = await host.RowsAsync(null);
        foreach (var (id, sent) in requestIds)
            Assert.True(records.Any(r => r.RequestId == id), "no audit row for " + sent);
        // The rows stay useful: what was masked is marked, the rest of each value kept.
        Assert.Contains(records, r => r.Provider == "unknown" && r.ErrorCode == "unknown_provider");
        Assert.Contains(records, r => r.Method == "OTHER" && r.Status == 401);
        Assert.Contains(records, r => r.Path == "v1/[REDACTED]/completions" && r.ErrorCode == "model_not_allowed");
        Assert.Contains(records, r => r.Model == "[REDACTED]" && r.ErrorCode == "model_not_allowed");
        Assert.Contains(records, r => r.UserAgent == "probe/1.0 ([REDACTED])" && r.Status == 200);
        var stored = await StoredAuditTextAsync(host);
        using var api = new HttpRequestMessage(HttpMethod.Get, "api/admin/audit?limit=1000");
        api.Headers.Add("x-fko-admin-key", RelayHost.AdminKey);
        using var apiResponse = await host.Client.SendAsync(api);
        var served = await apiResponse.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.OK, apiResponse.StatusCode);
        Assert.Contains(requestIds[^1].Id, served);
        var logs = host.Server.Logs.AllText;
        Assert.Contains("Request starting", logs);

        foreach (var canary in canaries)
        {
            Assert.DoesNotContain(canary, stored);
            Assert.DoesNotContain(canary, served);
            Assert.DoesNotContain(canary, logs);
            Assert.DoesNotContain(canary, answers.ToString());
        }
    }

    /// <summary>Every property of every row of the audit tables of the last hour, read from Table Storage as stored.</summary>
    private static async Task<string> StoredAuditTextAsync(RelayHost host)
    {
        var tables = host.Services.GetRequiredService<TableStore>();
        var now = DateTimeOffset.UtcNow;
        var text = new StringBuilder();
        var rows = 0;
        foreach (var month in new[] { TableNames.Audit(now.AddHours(-1)), TableNames.Audit(now) }.Distinct())
        {
            var table = tables.Service.GetTableClient(tables.PhysicalName(month));
            try
            {
                await foreach (var entity in table.QueryAsync<TableEntity>())
                {
                    rows++;
                    foreach (var (name, value) in entity)
                        text.Append(name).Append('=').Append(value).Append('\n');
                }
            }
            catch (Azure.RequestFailedException e) when (e.Status == 404)
            {
                // Last month's table, never written in this run.
            }
        }
        Assert.True(rows > 0);
        return text.ToString();
    }
}
