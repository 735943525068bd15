using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FuncKeyOps.Hosting;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Tests.Hosting;
using FuncKeyOps.Tests.Relay;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// The admin API under the Functions host (<c>/api/manage/...</c>): the host's function key, then the library's
/// admin key; every route of <see cref="Routes"/> answering; and no secret in what the host and worker log.
/// </summary>
public class FunctionsAdminTests(FunctionsApp app) : IClassFixture<FunctionsApp>
{
    [FunctionsHostFact]
    public async Task Without_a_function_key_the_host_refuses_before_the_app_runs()
    {
        if (!app.Host.ChecksFunctionKeys)
            return; // Core Tools runs Function-level triggers without a key locally; nothing to see here then
        var executed = app.ExecutedCount;
        using var response = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Get, "relay-keys", functionKey: false));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        // The host's own refusal: not the admin API's error shape, and no invocation of the app.
        Assert.DoesNotContain("\"unauthorized\"", await response.Content.ReadAsStringAsync());
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "api/manage/relay-keys");
        wrong.Headers.Add("x-functions-key", app.Host.MasterKey + "x");
        wrong.Headers.Add("x-fko-admin-key", FunctionsApp.AdminKey);
        using (var wrongKey = await app.Client.SendAsync(wrong))
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(executed, app.ExecutedCount);
    }

    [FunctionsHostFact]
    public async Task With_a_function_key_but_no_or_a_wrong_admin_key_the_library_refuses_in_the_admin_shape()
    {
        foreach (var adminKey in new[] { null, "fake-admin-" + Guid.NewGuid().ToString("N") })
        {
            using var response = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Post, "relay-keys", new { tenant = "t", name = "n" }, adminKey: adminKey));
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("unauthorized", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
            if (adminKey is not null)
                Assert.DoesNotContain(adminKey, body);
        }
    }

    [FunctionsHostFact]
    public async Task With_both_keys_a_relay_key_is_created_used_and_its_audit_row_read_back_through_the_admin_API()
    {
        using var created = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Post, "relay-keys", new { tenant = "tests", name = "admin-made" }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var (id, secret) = (key.GetProperty("id").GetString()!, key.GetProperty("key").GetString()!);

        var completion = (await RelaySdks.OpenAIChat(app.RelayBase("openai"), secret).CompleteChatAsync([new UserChatMessage("hi")])).Value;
        Assert.Equal(app.OpenAI.ReplyText, completion.Content[0].Text);

        await app.RowsAsync(id, rows => rows.Count == 1);
        // The function key also goes in the query, as `?code=`.
        using var audit = new HttpRequestMessage(HttpMethod.Get, $"api/manage/audit?relayKeyId={id}&code={app.Host.MasterKey}");
        audit.Headers.Add("x-fko-admin-key", FunctionsApp.AdminKey);
        using var response = await app.Client.SendAsync(audit);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("items");
        Assert.Equal(200, Assert.Single(items.EnumerateArray()).GetProperty("status").GetInt32());
    }

    /// <summary>
    /// Every row of the route table answers under the running host, unauthenticated: admin rows 401 from the host
    /// (no function key) and 401 from the library with a function key; the relay 401 in each provider's shape;
    /// health 200.
    /// </summary>
    [FunctionsHostFact]
    public async Task Every_route_of_the_table_answers_an_unauthenticated_call_as_expected()
    {
        var problems = new List<string>();
        foreach (var route in Routes.All)
        {
            var sample = RouteSamples.PathFor(route.Pattern);
            switch (route.Access)
            {
                case RouteAccess.Anonymous:
                    foreach (var method in route.Methods)
                        await Expect(route, method, "api/" + sample, HttpStatusCode.OK, body => true);
                    break;
                case RouteAccess.Admin:
                    foreach (var method in route.Methods)
                    {
                        if (app.Host.ChecksFunctionKeys)
                        {
                            await Expect(route, method, $"api/{Routes.ManagePrefix}/{sample}", HttpStatusCode.Unauthorized,
                                body => !body.Contains("\"unauthorized\"", StringComparison.Ordinal));
                        }
                        await Expect(route, method, $"api/{Routes.ManagePrefix}/{sample}?code={app.Host.MasterKey}", HttpStatusCode.Unauthorized,
                            body => body.Contains("\"code\":\"unauthorized\"", StringComparison.Ordinal));
                    }
                    break;
                case RouteAccess.Tenant:
                    // No function key at the Functions level: the library's gate answers.
                    foreach (var method in route.Methods)
                        await Expect(route, method, "api/" + sample, HttpStatusCode.Unauthorized,
                            body => body.Contains("\"code\":\"unauthorized\"", StringComparison.Ordinal));
                    break;
                case RouteAccess.Relay:
                    foreach (var (provider, shape) in new (string, Func<JsonElement, bool>)[]
                    {
                        ("openai", e => e.GetProperty("error").GetProperty("code").GetString() == "invalid_relay_key"),
                        ("anthropic", e => e.GetProperty("error").GetProperty("type").GetString() == "authentication_error"),
                        ("gemini", e => e.GetProperty("error").GetProperty("status").GetString() == "UNAUTHENTICATED"),
                        ("azure-openai", e => e.GetProperty("error").GetProperty("code").GetString() == "invalid_relay_key"),
                    })
                    {
                        foreach (var method in route.AnswersEveryMethod ? ["GET", "POST", "PUT", "DELETE", "PATCH"] : route.Methods)
                        {
                            await Expect(route, method, "api/" + sample.Replace("provider-1", provider, StringComparison.Ordinal), HttpStatusCode.Unauthorized,
                                body => shape(JsonDocument.Parse(body).RootElement));
                        }
                    }
                    break;
                default:
                    problems.Add($"{route}: no expectation for access {route.Access}");
                    break;
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

        async Task Expect(ApiRoute route, string method, string path, HttpStatusCode status, Func<string, bool> bodyIsRight)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is "POST" or "PUT" or "PATCH")
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            using var response = await app.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            bool right;
            try
            {
                right = bodyIsRight(body);
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                right = false;
            }
            if (response.StatusCode != status || !right)
                problems.Add($"{route}: {method} /{path.Replace(app.Host.MasterKey, "<function key>")} answered {(int)response.StatusCode} {body}");
        }
    }

    /// <summary>
    /// The canary: after calls that carry every secret (the provider keys went in through the admin API when the
    /// fixture activated them, the admin key, a relay key, a wrong admin key), none is in the host's or worker's output.
    /// </summary>
    [FunctionsHostFact]
    public async Task No_secret_appears_in_the_host_or_worker_output()
    {
        var executed = app.ExecutedCount;
        var (_, secret) = await app.CreateRelayKeyAsync();
        using var chat = new HttpRequestMessage(HttpMethod.Post, "api/relay/openai/v1/chat/completions")
        {
            Content = new StringContent("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        chat.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using (var ok = await app.Client.SendAsync(chat))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var gemini = await app.Client.PostAsync($"api/relay/gemini/v1beta/models/gemini-2.0-flash:generateContent?key={secret}",
            new StringContent("""{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, gemini.StatusCode);
        var wrongAdminKey = "fake-admin-" + Guid.NewGuid().ToString("N");
        using (var refused = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Get, "relay-keys", adminKey: wrongAdminKey)))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        await app.WaitForExecutedAsync(executed + 4);
        var output = app.Host.Output;
        Assert.Contains("Functions.Relay", output); // the calls were logged: the output is not empty by accident
        var secrets = app.ProviderKeyValues.Values.Append(FunctionsApp.AdminKey).Append(secret).Append(wrongAdminKey)
            .Append(secret[(RelayKeyFormat.Prefix.Length + RelayKeyFormat.IdLength + 1)..]); // the secret part alone
        Assert.All(secrets, s => Assert.DoesNotContain(s, output, StringComparison.Ordinal));
    }
}
