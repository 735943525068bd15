using System.Net.Http.Headers;
using System.Net.Http.Json;
using FuncKeyOps.Anomalies.ShadowUsage;
using FuncKeyOps.Audit;
using FuncKeyOps.Logging;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Logging;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Audit;
using FuncKeyOps.Tests.Secrets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.Anomalies;

/// <summary>
/// The shadow-usage check as <see cref="ShadowUsageRegistration.AddShadowUsage"/> registers it, against the fake OpenAI
/// and Anthropic over real HTTP (admin keys read from a test vault through the real SecretClient), the relay's side from
/// audit rows in Azurite on a table prefix of its own, and a fake clock that dates the fakes' billed calls too.
/// </summary>
internal sealed class ShadowHarness : IAsyncDisposable
{
    /// <summary>10 minutes into an hour: calls made now are billed in the hour from <see cref="CallHour"/>.</summary>
    public static readonly DateTimeOffset Start = new(2026, 12, 7, 10, 10, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset CallHour = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static readonly HttpClient Direct = new();

    private readonly ServiceProvider _services;

    private ShadowHarness(TestVault vault, ISecretStore store, AuditHarness audit, ProviderKeyRegistry registry, ServiceProvider services,
        CapturingLoggerProvider logs, FakeTimeProvider time, FakeOpenAI openAI, FakeAnthropic anthropic)
    {
        Vault = vault;
        Store = store;
        Audit = audit;
        Registry = registry;
        _services = services;
        Logs = logs;
        Time = time;
        OpenAI = openAI;
        Anthropic = anthropic;
    }

    public TestVault Vault { get; }
    public ISecretStore Store { get; }
    public AuditHarness Audit { get; }
    public ProviderKeyRegistry Registry { get; }
    public CapturingLoggerProvider Logs { get; }
    public FakeTimeProvider Time { get; }
    public FakeOpenAI OpenAI { get; }
    public FakeAnthropic Anthropic { get; }
    public ShadowUsageCheck Check => _services.GetRequiredService<ShadowUsageCheck>();
    public T Service<T>() where T : notnull => _services.GetRequiredService<T>();

    public static async Task<ShadowHarness> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var time = new FakeTimeProvider(Start);
        var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var audit = await AuditHarness.CreateAsync();
        await audit.StartAsync();
        var registry = new ProviderKeyRegistry(audit.Tables, Options.Create(new ProviderKeyOptions()), time);
        var logs = new CapturingLoggerProvider();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddSingleton(audit.Tables)
            .AddSingleton(store as ISecretStore)
            // No TimeProvider of the test's: the check takes its now as an argument, and the report clients' resilience
            // pipelines wait their retry delays on the TimeProvider they find here (a fake one would never let them end).
            .AddSingleton(registry)
            .AddSingleton(audit.Services.GetRequiredService<UsageQuery>())
            .AddShadowUsage(configuration);
        // The production retry delay (1 s, exponential) would make each failing report cost the test seconds for nothing.
        foreach (var client in new[] { OpenAIUsageReport.HttpClientName, AnthropicUsageReport.HttpClientName })
            services.Configure<HttpStandardResilienceOptions>(client + "-standard", o => o.Retry.Delay = TimeSpan.FromMilliseconds(5));

        var openAI = await FakeOpenAI.StartAsync();
        var anthropic = await FakeAnthropic.StartAsync();
        openAI.Billing.Clock = time;
        anthropic.Billing.Clock = time;
        return new ShadowHarness(vault, store, audit, registry, services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }),
            logs, time, openAI, anthropic);
    }

    /// <summary>An <c>openai</c> provider key whose active version is a project key made at the fake, its id in the version's tag.</summary>
    public async Task<ShadowKey> AddOpenAIKeyAsync(bool withAdminKey = true)
    {
        var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
        OpenAI.Admin.AcceptAdminKey(adminKey);
        var project = OpenAI.Admin.AddProject();
        var account = OpenAI.Admin.AddServiceAccount(project, "relay");
        var (value, keyId) = OpenAI.Admin.AddKey(project, account, "relay");
        var settings = new Dictionary<string, string> { [OpenAIKeyConnector.ProjectIdSetting] = project };
        if (withAdminKey)
            settings[AdminAccess.AdminKeySecretSetting] = await StoreAdminKeyAsync(adminKey);
        // As the connector records a key it made on its own service account: {serviceAccountId}/{keyId}.
        return await AddKeyAsync("openai", OpenAI.BaseUri, settings, value, $"{account}/{keyId}", keyId, adminKey);
    }

    /// <summary>An <c>anthropic</c> provider key whose active version is a key an operator made in the fake's Console.</summary>
    public async Task<ShadowKey> AddAnthropicKeyAsync()
    {
        var adminKey = "fake-anthropic-admin-" + Guid.NewGuid().ToString("N");
        Anthropic.Admin.AcceptAdminKey(adminKey);
        var value = "sk-ant-fake-" + Guid.NewGuid().ToString("N");
        var keyId = Anthropic.Admin.AddKey(value, "relay");
        var settings = new Dictionary<string, string> { [AdminAccess.AdminKeySecretSetting] = await StoreAdminKeyAsync(adminKey) };
        return await AddKeyAsync("anthropic", Anthropic.BaseUri, settings, value, keyId, keyId, adminKey);
    }

    /// <summary>Tags the version revoked at <paramref name="revokedAt"/>, as a rotation's revoke step does; the provider still accepts the key.</summary>
    public Task RevokeInVaultAsync(ShadowKey key, DateTimeOffset revokedAt) =>
        Store.UpdateAsync(key.Config.SecretName, key.Version, new SecretVersionUpdate(Enabled: false, Tags: new Dictionary<string, string>
        {
            [SecretTags.State] = SecretVersionState.Revoked.ToTag(),
            [SecretTags.RevokedAt] = revokedAt.ToTag(),
        }));

    /// <summary><paramref name="calls"/> model calls sent straight to the provider with the key's value: what a leaked key does.</summary>
    public async Task CallDirectAsync(ShadowKey key, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            using var request = key.Config.Provider == "anthropic"
                ? new HttpRequestMessage(HttpMethod.Post, new Uri(Anthropic.BaseUri, "v1/messages"))
                {
                    Content = JsonContent.Create(new { model = "claude-haiku-4-5-20251001", max_tokens = 64, messages = new[] { new { role = "user", content = "hi" } } }),
                }
                : new HttpRequestMessage(HttpMethod.Post, new Uri(OpenAI.BaseUri, "v1/chat/completions"))
                {
                    Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }),
                };
            if (key.Config.Provider == "anthropic")
            {
                request.Headers.Add("x-api-key", key.Value);
                request.Headers.Add("anthropic-version", AnthropicKeyConnector.ApiVersion);
            }
            else
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key.Value);
            }

            using var response = await Direct.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"direct call answered {(int)response.StatusCode}");
        }
    }

    /// <summary>
    /// Audit rows as the relay writes them for <paramref name="calls"/> answered calls on the key's version at
    /// <paramref name="time"/>, each with the tokens the fake bills a call, plus <paramref name="timedOut"/> attempts the
    /// relay gave up on (estimated tokens), which the provider never answered.
    /// </summary>
    public async Task SeedRelayAsync(ShadowKey key, int calls, DateTimeOffset time, int inputTokens, int outputTokens, int timedOut = 0)
    {
        for (var i = 0; i < calls + timedOut; i++)
        {
            var answered = i < calls;
            Audit.Writer.Enqueue(new AuditRecord
            {
                RequestId = AuditRecords.NewId(),
                Time = time.AddMilliseconds(i),
                Tenant = "tenant-a",
                RelayKeyId = "rk-1",
                Provider = key.Config.Provider,
                ProviderKeyName = key.Config.Name,
                ProviderKeyVersion = key.Version,
                Model = "m",
                Method = "POST",
                Path = key.Config.Provider == "anthropic" ? "v1/messages" : "v1/chat/completions",
                Status = answered ? 200 : 504,
                InputTokens = inputTokens,
                OutputTokens = answered ? outputTokens : 0,
                TokensEstimated = !answered,
                ErrorCode = answered ? null : "upstream_timeout",
            });
        }

        await Audit.Writer.FlushAsync().WaitAsync(AuditHarness.Timeout);
    }

    /// <summary>One sweep's worth: run the check at the fake clock's now and commit it, as the sweep runner does once findings are stored.</summary>
    public async Task<ShadowUsageRun> RunAsync()
    {
        var run = await Check.RunAsync(Time.GetUtcNow(), CancellationToken.None);
        await Check.CommitAsync(run, CancellationToken.None);
        return run;
    }

    /// <summary>Usage report requests the fakes received so far.</summary>
    public int ReportRequests =>
        OpenAI.Requests.Count(r => r.Path.StartsWith("/v1/organization/usage/", StringComparison.Ordinal))
        + Anthropic.Requests.Count(r => r.Path.StartsWith("/v1/organizations/usage_report/", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await OpenAI.DisposeAsync();
        await Anthropic.DisposeAsync();
        await _services.DisposeAsync();
        await Audit.DisposeAsync();
        await Vault.DisposeAsync();
    }

    private async Task<string> StoreAdminKeyAsync(string value)
    {
        var name = TestNames.NewSecretName("admin");
        await Store.SetAsync(name, value);
        return name;
    }

    private async Task<ShadowKey> AddKeyAsync(string provider, Uri baseUrl, Dictionary<string, string> settings, string value, string providerKeyId,
        string usageKeyId, string adminKey)
    {
        var config = new ProviderKeyConfig
        {
            Name = $"{provider}-{Guid.NewGuid():N}"[..24],
            Provider = provider,
            BaseUrl = baseUrl,
            SecretName = TestNames.NewSecretName("pk"),
            Connector = provider,
            ConnectorSettings = settings,
        };
        await Registry.PutAsync(config);
        var version = await Store.SetAsync(config.SecretName, value, new Dictionary<string, string>
        {
            [SecretTags.State] = SecretVersionState.Active.ToTag(),
            [SecretTags.ProviderKeyId] = providerKeyId,
        });
        return new ShadowKey(config, version.Version, value, providerKeyId, usageKeyId, adminKey);
    }
}

/// <summary>A provider key of the harness: its registration, its one version, the value (for direct calls) and ids.</summary>
internal sealed record ShadowKey(ProviderKeyConfig Config, string Version, string Value, string ProviderKeyId, string UsageKeyId, string AdminKey)
{
    public string Subject => $"provider-key:{Config.Name}/{Version}";

    public override string ToString() => Subject;
}
