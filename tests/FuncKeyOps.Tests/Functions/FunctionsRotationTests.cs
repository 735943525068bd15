using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Relay;
using OpenAI.Chat;
using Xunit.Abstractions;

namespace FuncKeyOps.Tests.Functions;

/// <summary>
/// Rotations through the Functions app under a real Functions host: started, read and aborted through its admin
/// trigger (<c>/api/manage</c>), driven by the real Durable engine (Azure Storage task hub on Azurite) running the
/// library's orchestration and step activity in the worker, with the <c>openai</c> connector making and deleting keys
/// at the fake's Admin API. Holds are the admin call's override (about a second), never the plan's ten minutes; the
/// revoke grace, which no override shortens, is the app's staleness bound, kept to seconds (<see cref="FunctionsRotationApp"/>).
/// </summary>
public class FunctionsRotationTests(FunctionsRotationApp app, ITestOutputHelper output) : IClassFixture<FunctionsRotationApp>
{
    /// <summary>How long a one-second-hold canary may take end to end under a loaded machine.</summary>
    private static readonly TimeSpan RotationBound = TimeSpan.FromSeconds(90);

    /// <summary>The timer function's name (<c>[Function("RotationSchedule")]</c> in the Functions app).</summary>
    private const string RotationScheduleFunctionName = "RotationSchedule";

    private sealed record OpenAIKey(string Name, string ProjectId, string Version, string ProviderKeyId);

    [FunctionsHostFact]
    public async Task A_canary_started_through_the_admin_route_succeeds_while_the_relay_serves_every_call()
    {
        // The relay key is bound to this provider key, so its openai traffic goes to it whatever the default is.
        var key = await RegisterOpenAIKeyAsync("openai-canary-" + Guid.NewGuid().ToString("N")[..8]);
        var (relayKeyId, secret) = await app.CreateRelayKeyAsync(new { tenant = "tests", name = "canary", providerKeys = new Dictionary<string, string> { ["openai"] = key.Name } });
        var chat = RelaySdks.OpenAIChat(app.RelayBase("openai"), secret, retry: false);
        await chat.CompleteChatAsync([new UserChatMessage("before")]); // the relay serves the key before the rotation

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        var calls = 0;
        var traffic = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var answer = (await chat.CompleteChatAsync([new UserChatMessage("during")])).Value;
                    if (answer.Content[0].Text != app.OpenAI.ReplyText)
                        failures.Add("unexpected reply: " + answer.Content[0].Text);
                }
                catch (Exception e)
                {
                    failures.Add(e.GetType().Name + ": " + e.Message);
                }
                calls++;
            }
        });

        var clock = Stopwatch.StartNew();
        var id = await StartAsync(key.Name, "canary", "PT1S");
        var final = await WaitUntilFinishedAsync(key.Name, id);
        output.WriteLine($"canary ended {final.GetProperty("status").GetString()} in {clock.Elapsed.TotalSeconds:F1} s");
        await stop.CancelAsync();
        await traffic;

        Assert.True(final.GetProperty("status").GetString() == "Succeeded", final.GetRawText());
        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} calls failed: {string.Join(" | ", failures.Distinct().Take(5))}");
        var newVersion = final.GetProperty("newVersion").GetString()!;
        Assert.Equal(key.Version, final.GetProperty("oldVersion").GetString());
        Assert.Equal(new Dictionary<string, int> { [newVersion] = 100 }, Weights(final));
        Assert.Equal(new Dictionary<string, int> { [newVersion] = 100 }, Weights((await app.AdminOkAsync(HttpMethod.Get, $"provider-keys/{key.Name}")).GetProperty("key")));
        // The old key is deleted at the provider; the new one is the only key of the project.
        var remaining = Assert.Single(app.OpenAI.Admin.Keys(key.ProjectId));
        Assert.NotEqual(key.ProviderKeyId, remaining.Id);

        // Every call the client made is audited under this key, on both versions, and none was refused.
        var rows = await app.RowsAsync(relayKeyId, r => r.Count(x => x.Attempt is null or 1) >= calls + 1);
        Assert.All(rows, r => Assert.Equal(key.Name, r.ProviderKeyName));
        var byVersion = rows.GroupBy(r => r.ProviderKeyVersion!).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{calls} calls during the rotation, {failures.Count} failed; audit rows: old {byVersion.GetValueOrDefault(key.Version)}, new {byVersion.GetValueOrDefault(newVersion)}");
        Assert.True(byVersion.GetValueOrDefault(key.Version) > 0 && byVersion.GetValueOrDefault(newVersion) > 0,
            $"calls per version: {string.Join(", ", byVersion.Select(v => $"{v.Key}={v.Value}"))}");
        Assert.All(rows, r => Assert.Equal(200, r.Status));

        // Each hold's durable timer woke its step when the hold was over, not before it (the step would then ask for
        // the rest: another activity, another timer). Azure Storage's timers drop the fraction of a second.
        var early = Regex.Matches(app.Host.Output, $@"Rotation {Regex.Escape(key.Name)}/{id} step (\d+): Running, next (\d+) after")
            .Count(m => m.Groups[1].Value == m.Groups[2].Value);
        Assert.True(early <= 2, $"{early} steps were woken before their hold was over");
    }

    [FunctionsHostFact]
    public async Task A_second_start_while_one_runs_is_409_and_the_running_rotation_still_completes()
    {
        var key = await RegisterOpenAIKeyAsync(NewKeyName("twice"));
        var id = await StartAsync(key.Name, "canary", "PT1S");

        using var second = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Post, $"provider-keys/{key.Name}/rotations",
            new { strategy = "immediate", reason = "second", holds = "PT1S" }));

        var body = JsonDocument.Parse(await second.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("rotation_running", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(id, body.GetProperty("error").GetProperty("message").GetString());
        var final = await WaitUntilFinishedAsync(key.Name, id);
        Assert.True(final.GetProperty("status").GetString() == "Succeeded", final.GetRawText());
        Assert.Equal("canary", final.GetProperty("strategy").GetString());
        // The one orchestration instance ran it to the end: scheduled once (the second start never reached the
        // driver), never terminated, completed with the rotation's status.
        var instanceId = RotationId.InstancePrefix + key.Name;
        Assert.Single(app.Host.Output.Split('\n'), line => line.Contains($"Scheduling new RotationOrchestration orchestration with instance ID '{instanceId}'"));
        Assert.DoesNotContain(app.Host.Output.Split('\n'), line => line.Contains(instanceId) && line.Contains("Terminat", StringComparison.OrdinalIgnoreCase));
        var instance = await DurableInstanceAsync(instanceId);
        Assert.Equal("Completed", instance.GetProperty("runtimeStatus").GetString());
        Assert.Equal((int)RotationStatus.Succeeded, instance.GetProperty("output").GetInt32());
        var steps = final.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("index").GetInt32()).ToList();
        Assert.Equal(steps.Distinct().Count(), steps.Count);
    }

    [FunctionsHostFact]
    public async Task Abort_ends_a_long_hold_at_once_and_puts_the_weights_back_on_the_old_version()
    {
        var key = await RegisterOpenAIKeyAsync(NewKeyName("abort"));
        var id = await StartAsync(key.Name, "canary", "PT5M");
        // Holding after the first shift: the new version carries 1 %.
        var holding = await PollRotationAsync(key.Name, id, "the first canary shift",
            status => status.GetProperty("newVersion").GetString() is { } v && Weights(status).GetValueOrDefault(v) == 1);
        var newVersion = holding.GetProperty("newVersion").GetString()!;

        var clock = Stopwatch.StartNew();
        var abort = await app.AdminOkAsync(HttpMethod.Post, $"rotations/{key.Name}/{id}/abort");
        var final = await WaitUntilFinishedAsync(key.Name, id);
        clock.Stop();
        output.WriteLine($"aborted {clock.Elapsed.TotalSeconds:F1} s after the abort call");

        Assert.True(abort.GetProperty("abortRequested").GetBoolean());
        Assert.True(final.GetProperty("status").GetString() == "Aborted", final.GetRawText());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"aborted after {clock.Elapsed} (the hold is 5 min)");
        Assert.Equal(new Dictionary<string, int> { [key.Version] = 100 }, Weights(final));
        var versions = (await app.AdminOkAsync(HttpMethod.Get, $"provider-keys/{key.Name}")).GetProperty("versions").EnumerateArray()
            .ToDictionary(v => v.GetProperty("version").GetString()!, v => v.GetProperty("state").GetString());
        Assert.Equal(("active", "revoked"), (versions[key.Version], versions[newVersion]));
        Assert.Single(app.OpenAI.Admin.Keys(key.ProjectId)); // the new key deleted at the provider, the old one kept
        using var again = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Post, $"rotations/{key.Name}/{id}/abort"));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [FunctionsHostFact]
    public async Task An_emergency_deletes_the_compromised_key_at_the_provider_before_its_successor_serves()
    {
        var key = await RegisterOpenAIKeyAsync(NewKeyName("leak"));

        var id = await StartAsync(key.Name, "emergency", "PT1S");
        var final = await WaitUntilFinishedAsync(key.Name, id);

        Assert.True(final.GetProperty("status").GetString() == "Succeeded", final.GetRawText());
        var newVersion = final.GetProperty("newVersion").GetString()!;
        Assert.Equal(new Dictionary<string, int> { [newVersion] = 100 }, Weights(final));
        var remaining = Assert.Single(app.OpenAI.Admin.Keys(key.ProjectId));
        Assert.NotEqual(key.ProviderKeyId, remaining.Id);
        var versions = (await app.AdminOkAsync(HttpMethod.Get, $"provider-keys/{key.Name}")).GetProperty("versions").EnumerateArray()
            .ToDictionary(v => v.GetProperty("version").GetString()!, v => v.GetProperty("state").GetString());
        Assert.Equal("revoked", versions[key.Version]);
    }

    /// <summary>
    /// The daily timer function, run now through the host's admin call for a non-HTTP function (as the portal's "Test/Run"
    /// does), starts a rotation of a key whose active version is older than its policy's period, with the policy's
    /// strategy. The timer runs in the worker without an HTTP request: its own Durable client schedules the orchestration.
    /// </summary>
    [FunctionsHostFact]
    public async Task The_daily_timer_starts_a_rotation_of_a_key_past_its_period()
    {
        var key = await RegisterOpenAIKeyAsync(NewKeyName("due"), """{"period":"PT1S","warningWindow":"PT0.5S","strategy":"blue-green","holds":"PT10M"}""");
        var rotations = new RotationStore(await app.TablesAsync(), TimeProvider.System);

        // The version is a second old soon after it is made (the vault's creation times are whole seconds): run the
        // timer until it has seen that, at most the poll's bound.
        var started = await FunctionsApp.EventuallyAsync(async () =>
        {
            using var run = new HttpRequestMessage(HttpMethod.Post, $"admin/functions/{RotationScheduleFunctionName}")
            {
                Content = JsonContent.Create(new { input = "" }),
            };
            run.Headers.Add("x-functions-key", app.Host.MasterKey);
            using var response = await app.Client.SendAsync(run);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return await rotations.GetUnfinishedAsync(key.Name);
        }, $"a scheduled rotation of {key.Name}");

        Assert.Equal(("schedule", RotationStrategy.BlueGreen, key.Version), (started.Trigger, started.Strategy, started.OldVersion));
        var status = await app.AdminOkAsync(HttpMethod.Get, $"rotations/{key.Name}/{started.Id}");
        Assert.Equal("blue-green", status.GetProperty("strategy").GetString());
        // Its orchestration runs it: the new version is made and validated by the Durable steps, not by the test.
        await PollRotationAsync(key.Name, started.Id, "the new version", s => s.GetProperty("stepsDone").GetInt32() >= 2);
        await app.AdminOkAsync(HttpMethod.Post, $"rotations/{key.Name}/{started.Id}/abort"); // its hold outlasts the test: the timer's part is the start
        Assert.Equal("Aborted", (await WaitUntilFinishedAsync(key.Name, started.Id)).GetProperty("status").GetString());
    }

    /// <summary>A key registered with the fake's Admin API behind it and its first version made there, then activated.</summary>
    private async Task<OpenAIKey> RegisterOpenAIKeyAsync(string name, string? policy = null)
    {
        var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
        app.OpenAI.Admin.AcceptAdminKey(adminKey);
        var project = app.OpenAI.Admin.AddProject();
        var adminSecret = TestNames.NewSecretName("oa-admin");
        app.Vault.SetSecretDirect(adminSecret, adminKey);
        var registration = new Dictionary<string, object>
        {
            ["provider"] = "openai",
            ["baseUrl"] = app.OpenAI.BaseUri,
            ["secretName"] = name,
            ["connector"] = OpenAIKeyConnector.ConnectorName,
            ["connectorSettings"] = new Dictionary<string, string> { [OpenAIKeyConnector.ProjectIdSetting] = project, [AdminAccess.AdminKeySecretSetting] = adminSecret },
        };
        if (policy is not null)
            registration["policy"] = policy;
        await app.AdminOkAsync(HttpMethod.Put, $"provider-keys/{name}", registration);

        // The first key, made at the provider as an operator would, tagged with its id so a rotation can delete it.
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(app.OpenAI.BaseUri, $"v1/organization/projects/{project}/service_accounts"))
        {
            Content = JsonContent.Create(new { name = "operator" }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var created = await app.Client.SendAsync(create);
        var account = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.True(created.IsSuccessStatusCode, account.GetRawText());
        var apiKey = account.GetProperty("api_key");
        // The key's own id: the {serviceAccountId}/{keyId} form, which would have revoke delete the whole account, is refused.
        var providerKeyId = apiKey.GetProperty("id").GetString()!;
        var activated = await app.AdminOkAsync(HttpMethod.Post, $"provider-keys/{name}/versions",
            new { value = apiKey.GetProperty("value").GetString(), providerKeyId, activate = true });
        return new OpenAIKey(name, project, activated.GetProperty("version").GetString()!, providerKeyId);
    }

    /// <summary>A key no relay key is bound to and not the default: it never takes the relay's openai traffic.</summary>
    private static string NewKeyName(string what) => $"zz-{what}-{Guid.NewGuid().ToString("N")[..8]}";

    private async Task<string> StartAsync(string name, string strategy, string holds)
    {
        using var response = await app.Client.SendAsync(app.AdminRequest(HttpMethod.Post, $"provider-keys/{name}/rotations",
            new { strategy, reason = "test", holds }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {text}");
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal("Running", body.GetProperty("status").GetString());
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>Polls the rotation's status call until it is no longer Running.</summary>
    private Task<JsonElement> WaitUntilFinishedAsync(string name, string id) =>
        PollRotationAsync(name, id, "its end", status => status.GetProperty("status").GetString() != "Running");

    /// <summary>Polls the rotation's status call (GET rotations/{keyName}/{id}) until <paramref name="until"/> holds.</summary>
    private async Task<JsonElement> PollRotationAsync(string name, string id, string what, Func<JsonElement, bool> until)
    {
        var text = await FunctionsApp.EventuallyAsync(async () =>
        {
            var status = await app.AdminOkAsync(HttpMethod.Get, $"rotations/{name}/{id}");
            return until(status) ? status.GetRawText() : null;
        }, $"{what} of rotation {name}/{id}", RotationBound);
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The Durable instance as the extension's HTTP API shows it (master key).</summary>
    private async Task<JsonElement> DurableInstanceAsync(string instanceId)
    {
        using var response = await app.Client.GetAsync(new Uri(app.BaseUri,
            $"runtime/webhooks/durabletask/instances/{instanceId}?code={Uri.EscapeDataString(app.Host.MasterKey)}"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static Dictionary<string, int> Weights(JsonElement body) =>
        body.GetProperty("weights").EnumerateObject().Where(w => w.Value.GetInt32() > 0).ToDictionary(w => w.Name, w => w.Value.GetInt32());
}
