using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FuncKeyOps.Rotation;
using FuncKeyOps.Testing.Functions;
using FuncKeyOps.Tests.Functions;

namespace FuncKeyOps.Tests.Operators;

/// <summary>
/// The offline rotation drill the README describes, on a fresh <c>./build.sh dev</c>: each provider key is rotated by its
/// own connector against the fake's admin API (anthropic after an operator stages the Console key dev printed), while
/// the relay keeps answering with the printed relay key.
/// </summary>
public sealed partial class DevScriptTests
{
    // Caps on a drill that does not finish; a passing drill takes about the canary's six 1 s holds and its 1 s grace.
    private static readonly TimeSpan DrillBound = TimeSpan.FromSeconds(90);

    // A steady trickle of relay calls per provider (load, not synchronisation): enough for the canary's analyses to judge.
    private static readonly TimeSpan RelayPace = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task A_canary_drill_with_1_s_holds_rotates_every_dev_provider_key_to_Succeeded_while_every_relay_call_succeeds()
    {
        var port = FreePort();
        await using var dev = DevScript.Start(port);
        var adminKey = await dev.WaitForLineAsync("FKO_ADMIN_KEY=");
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/admin/"), Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Add("x-fko-admin-key", adminKey);
        await DrillAsync(dev, port, admin);
    }

    /// <summary>The same drill under <c>./build.sh dev --functions</c>: the Durable orchestration drives it.</summary>
    [FunctionsHostFact]
    public async Task Functions_dev_runs_the_same_canary_drill_to_Succeeded_while_every_relay_call_succeeds()
    {
        var port = FreePort();
        var host = Environment.GetEnvironmentVariable(FunctionsHostInstance.HostVariable);
        await using var dev = DevScript.Start(port, new Dictionary<string, string?> { [FunctionsHostInstance.HostVariable] = host }, "--functions");
        var functionKey = await dev.WaitForLineAsync("FKO_FUNCTION_KEY=");
        var adminKey = await dev.WaitForLineAsync("FKO_ADMIN_KEY=");
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/manage/"), Timeout = TimeSpan.FromSeconds(60) };
        admin.DefaultRequestHeaders.Add("x-functions-key", functionKey);
        admin.DefaultRequestHeaders.Add("x-fko-admin-key", adminKey);
        await DrillAsync(dev, port, admin);
    }

    /// <summary>Drills every dev provider key at once (reading the rest of dev's printed keys), relay calls all along.</summary>
    private static async Task DrillAsync(DevScript dev, int port, HttpClient admin)
    {
        var relayKey = await dev.WaitForLineAsync("FKO_RELAY_KEY=");
        var anthropicNextKey = await dev.WaitForLineAsync("FKO_ANTHROPIC_NEXT_KEY=");
        var anthropicNextKeyId = await dev.WaitForLineAsync("FKO_ANTHROPIC_NEXT_KEY_ID=");
        await dev.WaitForLineAsync("Ctrl-C stops everything.");
        var keys = RelayCalls.Select(c => c.Provider + "-dev").ToArray();
        var versionsBefore = new Dictionary<string, string>();
        foreach (var key in keys)
            versionsBefore[key] = ActiveVersion(await GetJsonAsync(admin, $"provider-keys/{key}"));

        using var stopRelay = new CancellationTokenSource();
        var relay = RelayLoopAsync(port, relayKey, stopRelay.Token);
        var drills = new Dictionary<string, string>();
        foreach (var key in keys)
        {
            using var started = await admin.PostAsJsonAsync($"provider-keys/{key}/rotations", new { strategy = "canary", reason = "drill", holds = "PT1S" });
            Assert.True(started.StatusCode == HttpStatusCode.Accepted, $"{key}: {(int)started.StatusCode} {await started.Content.ReadAsStringAsync()}");
            drills[key] = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        }

        // Anthropic's admin API cannot create keys: the drill waits for the operator's staged value.
        using (var staged = await admin.PostAsJsonAsync("provider-keys/anthropic-dev/versions", new { value = anthropicNextKey, providerKeyId = anthropicNextKeyId }))
            Assert.True(staged.IsSuccessStatusCode, $"staging: {(int)staged.StatusCode} {await staged.Content.ReadAsStringAsync()}");

        var ended = new Dictionary<string, JsonObject>();
        try
        {
            foreach (var (key, id) in drills)
                ended[key] = await WaitForEndAsync(admin, key, id);
        }
        finally
        {
            await stopRelay.CancelAsync();
        }

        var (calls, failures) = await relay;

        Assert.All(ended, drill => Assert.True(drill.Value["status"]!.GetValue<string>() == nameof(RotationStatus.Succeeded),
            $"{drill.Key}: {drill.Value.ToJsonString()}\n{dev.Tail()}"));
        Assert.True(failures.Count == 0, $"{failures.Count} of {calls} relay calls failed: {string.Join("; ", failures.Take(5))}");
        Assert.True(calls > 4 * 20, $"only {calls} relay calls during the drills");
        foreach (var key in keys)
        {
            var drill = ended[key];
            var newVersion = drill["newVersion"]!.GetValue<string>();
            Assert.Equal(versionsBefore[key], drill["oldVersion"]!.GetValue<string>());
            Assert.NotEqual(versionsBefore[key], newVersion);
            // The old key was revoked at the (fake) provider by the connector, not left to an operator.
            var revoke = drill["history"]!.AsArray().Last()!;
            Assert.Equal("revoke", revoke["step"]!.GetValue<string>()[..6]);
            var after = await GetJsonAsync(admin, $"provider-keys/{key}");
            Assert.Equal(newVersion, ActiveVersion(after));
            var old = Assert.Single(after["versions"]!.AsArray(), v => v!["version"]!.GetValue<string>() == versionsBefore[key])!;
            Assert.Equal("revoked", old["state"]!.GetValue<string>());
            Assert.False(old["enabled"]!.GetValue<bool>());
        }
    }

    /// <summary>A chat call per provider in its own format, with the relay key in its own header.</summary>
    private static readonly (string Provider, string Path, string Body, string Header, string Prefix)[] RelayCalls =
    [
        ("openai", "openai/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", "Authorization", "Bearer "),
        ("anthropic", "anthropic/v1/messages", """{"model":"claude-sonnet-4-5-20250929","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""", "x-api-key", ""),
        ("gemini", "gemini/v1beta/models/gemini-2.0-flash:generateContent", """{"contents":[{"parts":[{"text":"hi"}]}]}""", "x-goog-api-key", ""),
        ("azure-openai", "azure-openai/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", "api-key", ""),
    ];

    private static Task<HttpResponseMessage> SendRelayCallAsync(HttpClient relay, (string Provider, string Path, string Body, string Header, string Prefix) call, string relayKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, call.Path) { Content = new StringContent(call.Body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(call.Header, call.Prefix + relayKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        return relay.SendAsync(request);
    }

    /// <summary>Calls every provider through the relay at <see cref="RelayPace"/> until stopped; returns the count and the failures.</summary>
    private static async Task<(int Calls, List<string> Failures)> RelayLoopAsync(int port, string relayKey, CancellationToken stop)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/relay/"), Timeout = TimeSpan.FromSeconds(60) };
        using var pace = new PeriodicTimer(RelayPace);
        var calls = 0;
        var failures = new List<string>();
        try
        {
            while (await pace.WaitForNextTickAsync(stop))
            {
                foreach (var call in RelayCalls)
                {
                    // Not cancelled by the stop: a call in flight when the drills end still counts.
                    using var response = await SendRelayCallAsync(http, call, relayKey);
                    calls++;
                    if (response.StatusCode != HttpStatusCode.OK)
                        failures.Add($"{call.Provider}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return (calls, failures);
    }

    /// <summary>Polls the rotation (the admin API has no push) until it is no longer Running, within <see cref="DrillBound"/>.</summary>
    private static async Task<JsonObject> WaitForEndAsync(HttpClient admin, string key, string id)
    {
        using var bound = new CancellationTokenSource(DrillBound);
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        JsonObject rotation;
        do
        {
            rotation = await GetJsonAsync(admin, $"rotations/{key}/{id}");
            if (rotation["status"]!.GetValue<string>() != nameof(RotationStatus.Running))
                return rotation;
        }
        while (await pace.WaitForNextTickAsync(bound.Token).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));

        throw new TimeoutException($"{key} rotation {id} still runs after {DrillBound}: {rotation.ToJsonString()}");
    }

    private static async Task<JsonObject> GetJsonAsync(HttpClient admin, string path)
    {
        using var response = await admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The one version tagged active (the activation's order moves the tag, then the weight, then tags the previous).</summary>
    private static string ActiveVersion(JsonObject providerKey) =>
        Assert.Single(providerKey["versions"]!.AsArray(), v => v!["state"]?.GetValue<string>() == "active")!["version"]!.GetValue<string>();
}
