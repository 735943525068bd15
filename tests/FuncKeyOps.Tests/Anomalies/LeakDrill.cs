using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FuncKeyOps.Alerts;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Alerts;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.ProviderKeys;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Rotation;
using FuncKeyOps.Tests.Rotation.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using OpenAI.Chat;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// A leak drill through the real Server host: the host's own rotation driver on its fake clock
/// (<see cref="ServerRotationClock"/>), the production alert sink delivering to a test webhook, and a provider key of
/// the real <c>openai</c> or <c>anthropic</c> connector that the fake's admin API knows, served to a relay key through
/// an ordered pool whose second member is the host's <c>{provider}-main</c> key. The pool is how a deployment keeps
/// answering while an emergency rotation has the compromised key serving nothing.
/// </summary>
internal sealed class LeakDrill : IAsyncDisposable
{
    public static readonly TimeSpan Signal = ServerRotationClock.Signal;

    private static readonly HttpClient Direct = new();

    private LeakDrill(RotationHost host, WebhookReceiver webhook)
    {
        Host = host;
        Webhook = webhook;
    }

    public RotationHost Host { get; }
    public WebhookReceiver Webhook { get; }
    public RelayHost Relay => Host.Relay;

    /// <param name="settings">More host settings, over the Server driver's short polls and grace.</param>
    public static async Task<LeakDrill> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var webhook = await WebhookReceiver.StartAsync();
        var all = ServerRotationClock.Settings();
        // An operator-staged successor (anthropic) is looked for again after two seconds of the fake clock, not a minute.
        all["Rotation:RecheckInterval"] = "00:00:02";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            all[key] = value;
        var host = await RotationHost.StartAsync(all, serverDriver: true, configure: services =>
        {
            // The usage reports' retries wait on the host's clock, which only the test moves: no wait between them.
            foreach (var client in new[] { OpenAIUsageReport.HttpClientName, AnthropicUsageReport.HttpClientName })
                services.Configure<HttpStandardResilienceOptions>(client + "-standard", o => o.Retry.Delay = TimeSpan.Zero);
            // The production sink (queue, dedupe ledger, webhook) rather than RotationHost's recorder: "one alert" is
            // then what the webhook received.
            foreach (var recorder in services.Where(d => d.ServiceType == typeof(IAlertSink) && d.ImplementationInstance is RecordingAlertSink).ToList())
                services.Remove(recorder);
        });
        host.Relay.Server.Vault.SetSecretDirect(new AlertOptions().WebhookSecret, webhook.Url.ToString());
        // The fakes date what they bill by the host's clock, so a settle delay passes when the test moves it.
        foreach (var (_, fake) in host.Relay.Fakes.All)
            fake.Billing.Clock = host.Time;
        return new LeakDrill(host, webhook);
    }

    /// <summary>
    /// A provider key of <paramref name="provider"/>'s connector whose active version is a key the fake's admin API
    /// knows (OpenAI: made by the connector on a project; Anthropic: made in the Console), with its <c>providerKeyId</c>
    /// tag, registered with all weight; and a relay key whose calls use an ordered pool of it, then <c>{provider}-main</c>
    /// (<paramref name="pooled"/>), or it alone.
    /// </summary>
    public async Task<DrillKey> AddKeyAsync(string provider, bool pooled = true)
    {
        var name = $"drill-{Guid.NewGuid():N}"[..20];
        var adminSecret = TestNames.NewSecretName("admin");
        var adminKey = $"fake-{provider}-admin-" + Guid.NewGuid().ToString("N");
        Relay.Server.Vault.SetSecretDirect(adminSecret, adminKey);
        ProviderKeyConfig config;
        string value, providerKeyId;
        if (provider == OpenAIKeyConnector.ConnectorName)
        {
            Relay.OpenAI.Admin.AcceptAdminKey(adminKey);
            config = new ProviderKeyConfig
            {
                Name = name, Provider = provider, BaseUrl = Relay.OpenAI.BaseUri, SecretName = name, Connector = provider,
                ConnectorSettings = new Dictionary<string, string>
                {
                    [OpenAIKeyConnector.ProjectIdSetting] = Relay.OpenAI.Admin.AddProject(),
                    [AdminAccess.AdminKeySecretSetting] = adminSecret,
                },
            };
            var made = await Host.Services.GetServices<IKeyConnector>().Single(c => c.Name == provider)
                .CreateAsync(new ConnectorRequest(config, "first-" + Guid.NewGuid().ToString("N"), []), CancellationToken.None);
            Assert.True(made.Outcome == ConnectorCreateOutcome.Created, made.Detail);
            (value, providerKeyId) = (made.Value!, made.ProviderKeyId!);
        }
        else
        {
            Relay.Anthropic.Admin.AcceptAdminKey(adminKey);
            config = new ProviderKeyConfig
            {
                Name = name, Provider = provider, BaseUrl = Relay.Anthropic.BaseUri, SecretName = name, Connector = provider,
                ConnectorSettings = new Dictionary<string, string> { [AdminAccess.AdminKeySecretSetting] = adminSecret },
            };
            value = "fake-anthropic-" + Guid.NewGuid().ToString("N");
            providerKeyId = Relay.Anthropic.Admin.AddKey(value, "relay " + name);
        }
        var version = Relay.Server.Vault.SetSecretDirect(name, value,
            new Dictionary<string, string> { [SecretTags.State] = "active", [SecretTags.ProviderKeyId] = providerKeyId });
        await Host.Registry.PutAsync(config with { Weights = new Dictionary<string, int> { [version] = ProviderKeyActivation.FullWeight } });

        var pool = pooled ? "pool-" + name : name;
        if (pooled)
        {
            var (created, body) = await ProviderKeyCalls.AdminAsync(Relay, HttpMethod.Put, $"pools/{pool}", new
            {
                provider,
                mode = "ordered",
                members = new[] { new { key = name }, new { key = $"{provider}-main" } },
            });
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{created.StatusCode}: {body}");
        }
        var (relayKey, secret) = await Relay.CreateRelayKeyAsync(new RelayKeySpec
        {
            Tenant = "tests",
            Name = "drill",
            ProviderKeys = new Dictionary<string, string> { [provider] = pool },
        });
        return new DrillKey(provider, config, version, value, providerKeyId, relayKey.Id, secret);
    }

    /// <summary><paramref name="calls"/> model calls sent straight to the fake provider with the key's value, not through the relay: a leaked key in use.</summary>
    public async Task CallDirectAsync(DrillKey key, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            using var response = await Direct.SendAsync(DirectCall(key));
            Assert.True(response.IsSuccessStatusCode, $"direct call answered {(int)response.StatusCode}");
        }
    }

    /// <summary>What the provider answers a direct call with the key's value now.</summary>
    public async Task<HttpStatusCode> DirectStatusAsync(DrillKey key)
    {
        using var response = await Direct.SendAsync(DirectCall(key));
        return response.StatusCode;
    }

    private HttpRequestMessage DirectCall(DrillKey key)
    {
        if (key.Provider == AnthropicKeyConnector.ConnectorName)
        {
            var anthropic = new HttpRequestMessage(HttpMethod.Post, new Uri(Relay.Anthropic.BaseUri, "v1/messages"))
            {
                Content = JsonContent.Create(new { model = "claude-haiku-4-5-20251001", max_tokens = 64, messages = new[] { new { role = "user", content = "hi" } } }),
            };
            anthropic.Headers.Add("x-api-key", key.Value);
            anthropic.Headers.Add("anthropic-version", AnthropicKeyConnector.ApiVersion);
            return anthropic;
        }
        var openAI = new HttpRequestMessage(HttpMethod.Post, new Uri(Relay.OpenAI.BaseUri, "v1/chat/completions"))
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }),
        };
        openAI.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Value);
        return openAI;
    }

    /// <summary>An admin call with the host's admin key: status and JSON body.</summary>
    public Task<(HttpResponseMessage Response, JsonElement Body)> AdminAsync(HttpMethod method, string path) =>
        ProviderKeyCalls.AdminAsync(Relay, method, path);

    /// <summary>
    /// Clients of the relay with the official SDK of the key's provider, calling without pause until stopped: every
    /// failure is kept, and the provider's record of each answered call tells which key served it.
    /// </summary>
    public RelayCallers StartCallers(DrillKey key, int callers = 2) => new(this, key, callers);

    /// <summary>Moves the fake clock a poll at a time (each followed by the Server driver's sweep) until the rotation has ended.</summary>
    public async Task<RotationRecord> DriveToEndAsync(RotationId rotation)
    {
        await ServerRotationClock.AdvanceUntilAsync(Host, Host.ServerDriver, () => ServerRotationClock.FinishedAsync(Host, rotation));
        return (await Host.Store.GetAsync(rotation.KeyName, rotation.Id))!;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        await Webhook.DisposeAsync();
    }
}

/// <summary>A drill's provider key: its registration, first version and value, the provider's id of it, and the relay key that uses it.</summary>
internal sealed record DrillKey(string Provider, ProviderKeyConfig Config, string Version, string Value, string ProviderKeyId, string RelayKeyId, string RelaySecret)
{
    public string Subject => $"provider-key:{Config.Name}/{Version}";

    public override string ToString() => Subject;
}

/// <summary>Callers of <see cref="LeakDrill.StartCallers"/>.</summary>
internal sealed class RelayCallers : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _callers;
    private readonly FakeProvider _fake;
    private int _answered;

    public RelayCallers(LeakDrill drill, DrillKey key, int callers)
    {
        _fake = key.Provider == AnthropicKeyConnector.ConnectorName ? drill.Relay.Anthropic : drill.Relay.OpenAI;
        _callers = Enumerable.Range(0, callers).Select(_ => Task.Run(() => CallAsync(drill, key))).ToList();
    }

    public ConcurrentQueue<string> Failures { get; } = new();
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Completes once <paramref name="more"/> calls more than now have been answered.</summary>
    public async Task AnsweredMoreAsync(int more)
    {
        var target = Answered + more;
        using var deadline = new CancellationTokenSource(LeakDrill.Signal);
        while (Answered < target)
        {
            Assert.True(Failures.IsEmpty, $"relay calls failed: {string.Join("; ", Failures.Take(5))}");
            // The fake's request log is the signal: every answered call reached it first.
            await _fake.WaitForRequestsAsync(_fake.Requests.Count + 1, deadline.Token);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_callers).WaitAsync(LeakDrill.Signal);
    }

    private async Task CallAsync(LeakDrill drill, DrillKey key)
    {
        var openAI = key.Provider == OpenAIKeyConnector.ConnectorName ? RelaySdks.OpenAIChat(drill.Relay, key.RelaySecret, retry: false) : null;
        using var anthropic = openAI is null ? RelaySdks.Anthropic(drill.Relay, key.RelaySecret) : null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (openAI is not null)
                    Assert.NotEmpty((await openAI.CompleteChatAsync([new UserChatMessage("hi")])).Value.Content);
                else
                    Assert.NotEmpty((await anthropic!.Messages.Create(RelaySdks.AnthropicMessage())).Content);
                Interlocked.Increment(ref _answered);
            }
            catch (Exception e)
            {
                Failures.Enqueue($"{e.GetType().Name}: {e.Message}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await StopAsync();
        _stop.Dispose();
    }
}
