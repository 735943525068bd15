using Azure.Core;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Rotation.Connectors.AzureOpenAI;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>
/// The azure-openai connector against the ARM fake over HTTPS (bearer token from the registered TokenCredential), the
/// account's slot values called on the Azure OpenAI fake, which accepts exactly the two current ones.
/// </summary>
public sealed class AzureOpenAIKeyConnectorTests : IAsyncLifetime
{
    private FakeAzureOpenAI _azure = null!;
    private FakeArm _arm = null!;
    private ConnectorHarness _harness = null!;
    private string _accountId = null!;
    private ProviderKeyConfig _key = null!;
    private string _servingVersion = null!;

    public async Task InitializeAsync()
    {
        _azure = await FakeAzureOpenAI.StartAsync();
        _arm = await FakeArm.StartAsync();
        _accountId = FakeArm.NewAccountId("fko-" + Guid.NewGuid().ToString("N")[..8]);
        _arm.AddAccount(_accountId, _azure);
        _harness = await StartHarnessAsync(armCredential: null);
        _key = NewKey();
        // key1 carries all traffic, as after an operator staged it.
        _servingVersion = await StageAsync(_arm.KeysOf(_accountId).Key1, "key1");
        _key = _key with { Weights = new Dictionary<string, int> { [_servingVersion] = 100 } };
    }

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _arm.DisposeAsync();
        await _azure.DisposeAsync();
    }

    private IKeyConnector Connector => _harness.Connector("azure-openai");

    [Fact]
    public async Task Create_regenerates_the_idle_slot_and_the_serving_value_keeps_working()
    {
        var serving = _arm.KeysOf(_accountId).Key1;

        var created = await Connector.CreateAsync(new ConnectorRequest(_key, "rot-1", ["key1"]), default);

        Assert.True(created.Outcome == ConnectorCreateOutcome.Created, created.Detail);
        Assert.Equal("key2", created.ProviderKeyId);
        Assert.Equal(_arm.KeysOf(_accountId).Key2, created.Value);
        Assert.Equal(serving, _arm.KeysOf(_accountId).Key1);
        Assert.Equal(1, _arm.RegenerateCalls);
        Assert.Equal(200, await ListModelsAsync(created.Value!));
        Assert.Equal(200, await ListModelsAsync(serving));
    }

    [Fact]
    public async Task A_staged_slot_is_confirmed_only_when_it_holds_the_value()
    {
        var value = _arm.KeysOf(_accountId).Key2;

        var own = await Connector.ConfirmKeyIdAsync(_key, value, "key2", default);
        var otherSlot = await Connector.ConfirmKeyIdAsync(_key, value, "key1", default);
        var notASlot = await Connector.ConfirmKeyIdAsync(_key, value, "key3", default);

        Assert.Equal((KeyIdVerdict.Confirmed, "key2"), (own.Verdict, own.ProviderKeyId));
        Assert.Equal(KeyIdVerdict.Refused, otherSlot.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, notASlot.Verdict);
        Assert.Equal(0, _arm.RegenerateCalls);
    }

    [Fact]
    public async Task A_serving_version_staged_without_a_slot_id_still_protects_its_slot()
    {
        var key = _key with { SecretName = TestNames.NewSecretName("aoai") };
        var untagged = await _harness.Store.SetAsync(key.SecretName, _arm.KeysOf(_accountId).Key2,
            new Dictionary<string, string> { [SecretTags.State] = "active" });
        key = key with { Weights = new Dictionary<string, int> { [untagged.Version] = 100 } };

        var created = await Connector.CreateAsync(new ConnectorRequest(key, "rot-1", []), default);

        Assert.Equal("key1", created.ProviderKeyId);
        Assert.Equal(200, await ListModelsAsync(_arm.KeysOf(_accountId).Key2));
    }

    [Fact]
    public async Task Create_refuses_when_both_slots_or_no_slot_can_be_told_to_carry_traffic()
    {
        var both = await Connector.CreateAsync(new ConnectorRequest(_key, "rot-1", ["key1", "key2"]), default);
        var unknown = await Connector.CreateAsync(new ConnectorRequest(_key with { Weights = new Dictionary<string, int>(), SecretName = TestNames.NewSecretName("aoai") }, "rot-2", []), default);

        Assert.Equal((ConnectorCreateOutcome.Failed, false), (both.Outcome, both.Transient));
        Assert.Equal((ConnectorCreateOutcome.Failed, false), (unknown.Outcome, unknown.Transient));
        Assert.Equal(0, _arm.RegenerateCalls);
    }

    [Fact]
    public async Task Create_run_twice_for_one_rotation_regenerates_once()
    {
        var request = new ConnectorRequest(_key, "rot-1", ["key1"]);

        var first = await Connector.CreateAsync(request, default);
        var second = await Connector.CreateAsync(request, default);

        Assert.Equal(ConnectorCreateOutcome.Created, second.Outcome);
        Assert.Equal((first.ProviderKeyId, first.Value), (second.ProviderKeyId, second.Value));
        Assert.Equal(1, _arm.RegenerateCalls);
        Assert.Equal(200, await ListModelsAsync(second.Value!));
    }

    [Fact]
    public async Task A_run_stopped_before_its_regeneration_regenerates_on_the_rerun()
    {
        var request = new ConnectorRequest(_key, "rot-1", ["key1"]);
        var before = _arm.KeysOf(_accountId).Key2;
        _arm.FailNext(503, times: 3, pathSuffix: "/regenerateKey");

        var stopped = await Connector.CreateAsync(request, default);
        var rerun = await Connector.CreateAsync(request, default);

        Assert.Equal((ConnectorCreateOutcome.Failed, true), (stopped.Outcome, stopped.Transient));
        Assert.Equal(ConnectorCreateOutcome.Created, rerun.Outcome);
        Assert.NotEqual(before, rerun.Value);
        Assert.Equal(_arm.KeysOf(_accountId).Key2, rerun.Value);
        Assert.Equal(401, await ListModelsAsync(before));
    }

    [Fact]
    public async Task Revoke_regenerates_the_old_slot_only_once_it_no_longer_serves()
    {
        var oldValue = _arm.KeysOf(_accountId).Key1;
        var created = await Connector.CreateAsync(new ConnectorRequest(_key, "rot-1", ["key1"]), default);
        var old = new RevokedVersion(_servingVersion, "key1");

        var whileServing = await Connector.RevokeAsync(new ConnectorRequest(_key, "rot-1", ["key1"]), old, default);
        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (whileServing.Outcome, whileServing.Transient));
        Assert.Equal(200, await ListModelsAsync(oldValue));

        // Traffic moved to the new version: only now may key1 be regenerated.
        var newVersion = await StageAsync(created.Value!, "key2");
        var moved = _key with { Weights = new Dictionary<string, int> { [newVersion] = 100 } };
        var revoked = await Connector.RevokeAsync(new ConnectorRequest(moved, "rot-1", ["key2"]), old, default);
        var again = await Connector.RevokeAsync(new ConnectorRequest(moved, "rot-1", ["key2"]), old, default);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, revoked.Outcome);
        Assert.Equal(ConnectorRevokeOutcome.AlreadyGone, again.Outcome);
        Assert.Equal(401, await ListModelsAsync(oldValue));
        Assert.Equal(200, await ListModelsAsync(created.Value!));
        Assert.Equal(2, _arm.RegenerateCalls);
    }

    [Fact]
    public async Task A_token_ARM_refuses_fails_non_transient_without_secrets_in_detail_or_logs()
    {
        await using var harness = await StartHarnessAsync(new FixedTokenCredential("not-an-arm-token"));

        var created = await harness.Connector("azure-openai").CreateAsync(new ConnectorRequest(_key, "rot-1", ["key1"]), default);

        Assert.Equal((ConnectorCreateOutcome.Failed, false), (created.Outcome, created.Transient));
        Assert.Contains("401", created.Detail);
        Assert.Equal(0, _arm.RegenerateCalls);
        var (key1, key2) = _arm.KeysOf(_accountId);
        foreach (var text in new[] { created.Detail!, harness.Logs.AllText })
        {
            Assert.DoesNotContain("not-an-arm-token", text);
            Assert.DoesNotContain(key1, text);
            Assert.DoesNotContain(key2, text);
        }
    }

    [Fact]
    public async Task An_ARM_fault_that_outlasts_the_retries_fails_transient()
    {
        _arm.FailNext(500, times: 3);

        var created = await Connector.CreateAsync(new ConnectorRequest(_key, "rot-1", ["key1"]), default);

        Assert.Equal((ConnectorCreateOutcome.Failed, true), (created.Outcome, created.Transient));
        Assert.Equal(3, _arm.Requests.Count); // listKeys: the first try and Azure.Core's two retries
        Assert.Equal(0, _arm.RegenerateCalls);
    }

    private Task<ConnectorHarness> StartHarnessAsync(TokenCredential? armCredential) => ConnectorHarness.StartAsync(
        services => services.AddHttpClient(AzureOpenAIKeyConnector.HttpClientName).ConfigurePrimaryHttpMessageHandler(_arm.CreateTrustingHandler),
        armCredential);

    private ProviderKeyConfig NewKey() => new()
    {
        Name = "aoai-" + Guid.NewGuid().ToString("N")[..8],
        Provider = "azure-openai",
        BaseUrl = _azure.BaseUri,
        SecretName = TestNames.NewSecretName("aoai"),
        Connector = "azure-openai",
        ConnectorSettings = new Dictionary<string, string> { ["resourceId"] = _accountId, ["armEndpoint"] = _arm.BaseUri.AbsoluteUri },
    };

    private async Task<string> StageAsync(string value, string slot) =>
        (await _harness.Store.SetAsync(_key.SecretName, value,
            new Dictionary<string, string> { [SecretTags.State] = "active", [SecretTags.ProviderKeyId] = slot })).Version;

    private async Task<int> ListModelsAsync(string key)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_azure.BaseUri, "openai/models?api-version=2024-10-21"));
        request.Headers.Add("api-key", key);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private sealed class FixedTokenCredential(string token) : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
