using Azure.Core;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.ProviderKeys;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation.Durable;

/// <summary>
/// A rotation through the Durable engine for each connector the library registers, against its fake provider's
/// admin API over real HTTP (the same fakes the connector tests use), with the admin credentials in the test vault.
/// </summary>
public class DurableConnectorRotationTests(DurableEngine engine) : IClassFixture<DurableEngine>
{
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(300);

    /// <summary>A provider key set up for one connector: its registration (without weights) and first version.</summary>
    private sealed record KeySetup(ProviderKeyConfig Key, string InitialValue, string? InitialId, Func<Task<string>>? StageSuccessor = null);

    [Theory]
    [InlineData(ManualConnector.ConnectorName)]
    [InlineData(OpenAIKeyConnector.ConnectorName)]
    [InlineData(AnthropicKeyConnector.ConnectorName)]
    [InlineData("gemini")]
    [InlineData("azure-openai")]
    public async Task Each_connector_rotates_a_key_through_the_orchestration_the_new_key_works_and_the_old_one_is_revoked(string connector)
    {
        await using var extras = new AsyncDisposables();
        var arm = connector == "azure-openai" ? extras.Add(await FakeArm.StartAsync()) : null;
        await using var d = await DurableRotationHost.StartAsync(engine, new Dictionary<string, string?> { ["Rotation:PollInterval"] = "00:00:00.2" },
            services =>
            {
                if (arm is null)
                    return;
                // The host's ARM credential (DefaultAzureCredential outside Azure) and trust of the fake's certificate.
                services.AddSingleton<TokenCredential>(new TestVaultCredential());
                services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName).ConfigurePrimaryHttpMessageHandler(arm.CreateTrustingHandler);
            });
        var setup = await SetUpAsync(d.Host, connector, arm, extras);
        var tags = new Dictionary<string, string> { [SecretTags.State] = "active" };
        if (setup.InitialId is not null)
            tags[SecretTags.ProviderKeyId] = setup.InitialId;
        var initialVersion = d.Host.Relay.Server.Vault.SetSecretDirect(setup.Key.SecretName, setup.InitialValue, tags);
        await d.Host.Registry.PutAsync(setup.Key with { Weights = new Dictionary<string, int> { [initialVersion] = ProviderKeyActivation.FullWeight } });

        var staged = 0;
        if (setup.StageSuccessor is { } stage)
            d.Runner.OnWait = async _ =>
            {
                if (Interlocked.Increment(ref staged) == 1) // the create step found nothing: the operator stages the new key
                    await ProviderKeyCalls.StageAsync(d.Host.Relay, setup.Key.Name, await stage());
            };

        var rotation = await d.StartRotationAsync(setup.Key.Name, RotationStrategy.Immediate, Grace);
        var status = await d.CompletionAsync(rotation);

        var record = await d.RecordAsync(rotation);
        Assert.True(status == RotationStatus.Succeeded, $"{status}: {string.Join("; ", record.History.Select(h => $"{h.Step}: {h.Result}"))}");
        // Each step once, in order; the create step of a connector that waits for an operator twice (nothing staged, then the staged value).
        Assert.Equal([.. setup.StageSuccessor is null ? [] : new[] { 0 }, .. Enumerable.Range(0, record.Plan.RollbackIndex)], d.Runner.Calls);
        Assert.Equal(new Dictionary<string, int> { [record.NewVersion!] = 100 }, await d.WeightsAsync(setup.Key.Name));
        var versions = await d.Host.VersionsAsync(setup.Key.SecretName);
        Assert.Equal((SecretVersionState.Revoked, false), (versions[initialVersion].State, versions[initialVersion].Enabled));
        var validator = d.Host.Services.GetRequiredService<ProviderKeyValidator>();
        var newValue = (await d.Host.Secrets.GetAsync(setup.Key.SecretName, record.NewVersion!)).Value;
        Assert.Equal(ProviderKeyVerdict.Accepted, (await validator.ValidateAsync(setup.Key, newValue, CancellationToken.None)).Verdict);
        var alerts = d.Host.Alerts.For(setup.Key.Name);
        if (connector == ManualConnector.ConnectorName)
            Assert.Single(alerts, a => a.Kind == "rotation.revoke_manually"); // no admin API: the operator deletes the old key
        else
            Assert.Equal(ProviderKeyVerdict.Rejected, (await validator.ValidateAsync(setup.Key, setup.InitialValue, CancellationToken.None)).Verdict);
        Assert.Equal("rotation.succeeded", alerts[^1].Kind);
        Assert.All(alerts, a => Assert.DoesNotContain(newValue, a.Message));
    }

    private static async Task<KeySetup> SetUpAsync(RotationHost host, string connector, FakeArm? arm, AsyncDisposables extras)
    {
        var fakes = host.Relay.Fakes;
        var name = $"{connector}-{Guid.NewGuid():N}"[..20];
        var key = new ProviderKeyConfig { Name = name, Provider = "openai", BaseUrl = fakes.OpenAI.BaseUri, SecretName = name, Connector = connector };
        string AdminSecret(string adminKey)
        {
            var secretName = TestNames.NewSecretName("admin");
            host.Relay.Server.Vault.SetSecretDirect(secretName, adminKey);
            return secretName;
        }
        // A first version the connector itself made (a previous rotation's): one it can revoke.
        async Task<KeySetup> CreatedFirstAsync(ProviderKeyConfig config)
        {
            var made = await host.Services.GetServices<IKeyConnector>().Single(c => c.Name == connector)
                .CreateAsync(new ConnectorRequest(config, "first-" + Guid.NewGuid().ToString("N"), []), CancellationToken.None);
            Assert.True(made.Outcome == ConnectorCreateOutcome.Created, made.Detail);
            return new KeySetup(config, made.Value!, made.ProviderKeyId);
        }

        switch (connector)
        {
            case ManualConnector.ConnectorName:
                return new KeySetup(key, Accepted(fakes.OpenAI), null, () => Task.FromResult(Accepted(fakes.OpenAI)));
            case OpenAIKeyConnector.ConnectorName:
            {
                var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
                fakes.OpenAI.Admin.AcceptAdminKey(adminKey);
                return await CreatedFirstAsync(key with
                {
                    ConnectorSettings = new Dictionary<string, string>
                    {
                        [OpenAIKeyConnector.ProjectIdSetting] = fakes.OpenAI.Admin.AddProject(),
                        [AdminAccess.AdminKeySecretSetting] = AdminSecret(adminKey),
                    },
                });
            }
            case AnthropicKeyConnector.ConnectorName:
            {
                var adminKey = "fake-anthropic-admin-" + Guid.NewGuid().ToString("N");
                fakes.Anthropic.Admin.AcceptAdminKey(adminKey);
                string Console() // a key an operator made in the Console
                {
                    var value = "fake-anthropic-" + Guid.NewGuid().ToString("N");
                    fakes.Anthropic.Admin.AddKey(value, "relay " + name);
                    return value;
                }
                var first = Console();
                return new KeySetup(key with
                {
                    Provider = "anthropic",
                    BaseUrl = fakes.Anthropic.BaseUri,
                    ConnectorSettings = new Dictionary<string, string> { [AdminAccess.AdminKeySecretSetting] = AdminSecret(adminKey) },
                }, first, null, () => Task.FromResult(Console()));
            }
            case "gemini":
            {
                var google = extras.Add(await FakeGoogleApiKeys.StartAsync(fakes.Gemini));
                const string ProjectId = "fko-test";
                var accountSecret = TestNames.NewSecretName("gcp-sa");
                host.Relay.Server.Vault.SetSecretDirect(accountSecret, google.CreateServiceAccount(ProjectId));
                return await CreatedFirstAsync(key with
                {
                    Provider = "gemini",
                    BaseUrl = fakes.Gemini.BaseUri,
                    ConnectorSettings = new Dictionary<string, string>
                    {
                        ["projectId"] = ProjectId,
                        ["serviceAccountSecret"] = accountSecret,
                        ["apiKeysEndpoint"] = google.BaseUri.AbsoluteUri,
                    },
                });
            }
            default:
            {
                var accountId = FakeArm.NewAccountId("fko-" + Guid.NewGuid().ToString("N")[..8]);
                arm!.AddAccount(accountId, fakes.Azure);
                // key1 serves, as after an operator staged it; the rotation regenerates key2, then key1.
                return new KeySetup(key with
                {
                    Provider = "azure-openai",
                    BaseUrl = fakes.Azure.BaseUri,
                    ConnectorSettings = new Dictionary<string, string> { ["resourceId"] = accountId, ["armEndpoint"] = arm.BaseUri.AbsoluteUri },
                }, arm.KeysOf(accountId).Key1, "key1");
            }
        }
    }

    private static string Accepted(FakeProvider fake)
    {
        var value = "fake-staged-" + Guid.NewGuid().ToString("N");
        fake.AcceptKey(value);
        return value;
    }

    /// <summary>The fakes a test started besides the host's, disposed with it.</summary>
    private sealed class AsyncDisposables : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _all = [];

        public T Add<T>(T disposable) where T : IAsyncDisposable
        {
            _all.Add(disposable);
            return disposable;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var disposable in _all)
                await disposable.DisposeAsync();
        }
    }
}
