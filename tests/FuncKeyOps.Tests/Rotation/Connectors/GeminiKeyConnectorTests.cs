using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>The gemini connector against the Google API Keys fake, its created keys called on the Gemini fake.</summary>
public sealed class GeminiKeyConnectorTests : IAsyncLifetime
{
    private const string ProjectId = "fko-test-project";
    private FakeGemini _gemini = null!;
    private FakeGoogleApiKeys _google = null!;
    private ConnectorHarness _harness = null!;
    private string _serviceAccountJson = null!;
    private ProviderKeyConfig _key = null!;

    public async Task InitializeAsync()
    {
        _gemini = await FakeGemini.StartAsync();
        _google = await FakeGoogleApiKeys.StartAsync(_gemini);
        _harness = await ConnectorHarness.StartAsync();
        _key = await RegisterKeyAsync(registeredAccount: true);
    }

    public async Task DisposeAsync()
    {
        await _harness.DisposeAsync();
        await _google.DisposeAsync();
        await _gemini.DisposeAsync();
    }

    private IKeyConnector Connector => _harness.Connector("gemini");

    [Fact]
    public async Task Create_makes_a_key_restricted_to_the_Generative_Language_API_that_works_until_revoked()
    {
        var created = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.True(created.Outcome == ConnectorCreateOutcome.Created, created.Detail);
        Assert.NotNull(created.Value);
        Assert.StartsWith("projects/", created.ProviderKeyId);
        Assert.Equal(200, await ListModelsAsync(created.Value));
        var key = Assert.Single(_google.Keys);
        Assert.Equal(created.ProviderKeyId, key.Name);
        Assert.Equal("generativelanguage.googleapis.com", key.Restrictions["apiTargets"]![0]!["service"]!.GetValue<string>());
        Assert.Equal("203.0.113.7", key.Restrictions["serverKeyRestrictions"]!["allowedIps"]![0]!.GetValue<string>());

        var revoked = await Connector.RevokeAsync(Request("rot-1"), new RevokedVersion("v1", created.ProviderKeyId), default);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, revoked.Outcome);
        Assert.Equal(400, await ListModelsAsync(created.Value)); // Google's answer to a deleted key: API_KEY_INVALID
    }

    [Fact]
    public async Task Create_run_twice_for_one_rotation_makes_one_key_and_returns_it_both_times()
    {
        var first = await Connector.CreateAsync(Request("rot-1"), default);
        var second = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.Equal(ConnectorCreateOutcome.Created, second.Outcome);
        Assert.Equal(first.ProviderKeyId, second.ProviderKeyId);
        Assert.Equal(first.Value, second.Value);
        Assert.Single(_google.Keys);
        Assert.Equal(2, _google.CreateCalls); // the second was answered 409 ALREADY_EXISTS

        var other = await Connector.CreateAsync(Request("rot-2"), default);
        Assert.NotEqual(first.ProviderKeyId, other.ProviderKeyId);
        Assert.Equal(2, _google.Keys.Count);
    }

    [Fact]
    public async Task Revoke_of_a_key_already_deleted_is_AlreadyGone()
    {
        var created = await Connector.CreateAsync(Request("rot-1"), default);
        var version = new RevokedVersion("v1", created.ProviderKeyId);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, (await Connector.RevokeAsync(Request("rot-1"), version, default)).Outcome);
        Assert.Equal(ConnectorRevokeOutcome.AlreadyGone, (await Connector.RevokeAsync(Request("rot-1"), version, default)).Outcome);
    }

    [Fact]
    public async Task Create_after_the_rotations_key_was_deleted_fails_instead_of_returning_a_dead_key()
    {
        var created = await Connector.CreateAsync(Request("rot-1"), default);
        await Connector.RevokeAsync(Request("rot-1"), new RevokedVersion("v1", created.ProviderKeyId), default);

        var again = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.Equal(ConnectorCreateOutcome.Failed, again.Outcome);
        Assert.False(again.Transient);
        Assert.Null(again.Value);
    }

    [Fact]
    public async Task A_service_account_Google_refuses_fails_non_transient_without_secrets_in_detail_or_logs()
    {
        var key = await RegisterKeyAsync(registeredAccount: false);

        var created = await Connector.CreateAsync(new ConnectorRequest(key, "rot-1", []), default);

        Assert.Equal(ConnectorCreateOutcome.Failed, created.Outcome);
        Assert.False(created.Transient);
        Assert.Contains("invalid_grant", created.Detail);
        Assert.Equal(0, _google.CreateCalls);
        AssertNoSecretIn(created.Detail!);
        AssertNoSecretIn(_harness.Logs.AllText);
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public async Task An_admin_refusal_fails_non_transient(int status)
    {
        _google.FailNext(status);

        var created = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.Equal(ConnectorCreateOutcome.Failed, created.Outcome);
        Assert.False(created.Transient);
        Assert.Equal(1, _google.CreateCalls); // refusals are not retried
        AssertNoSecretIn(created.Detail!);
    }

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public async Task A_provider_fault_on_create_fails_transient_and_the_rerun_creates_the_key(int status)
    {
        _google.FailNext(status);

        var failed = await Connector.CreateAsync(Request("rot-1"), default);
        var rerun = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.Equal((ConnectorCreateOutcome.Failed, true), (failed.Outcome, failed.Transient));
        Assert.Equal(ConnectorCreateOutcome.Created, rerun.Outcome);
        Assert.Equal(2, _google.CreateCalls); // a POST is not retried inside the call: the step's re-run is the retry
        Assert.Single(_google.Keys);
    }

    [Fact]
    public async Task A_read_fault_the_retries_outlast_still_creates_one_key()
    {
        _google.FailNext(503, times: 2, pathSuffix: "/keyString");

        var created = await Connector.CreateAsync(Request("rot-1"), default);

        Assert.Equal(ConnectorCreateOutcome.Created, created.Outcome);
        Assert.Equal(200, await ListModelsAsync(created.Value!));
        Assert.Single(_google.Keys);
    }

    [Fact]
    public async Task A_staged_key_id_is_confirmed_only_for_the_values_own_key_in_the_configured_project()
    {
        var own = _google.TryAddKey(ProjectId, "staged-" + Guid.NewGuid().ToString("N")[..8], "operator")!;
        var other = _google.TryAddKey(ProjectId, "other-" + Guid.NewGuid().ToString("N")[..8], "operator")!;
        var foreign = _google.TryAddKey("someone-elses-project", own.KeyId, "theirs")!;
        var byProjectId = $"projects/{ProjectId}/locations/global/keys/{own.KeyId}";

        var confirmed = await Connector.ConfirmKeyIdAsync(_key, own.KeyString, own.Name, default);
        var spelledById = await Connector.ConfirmKeyIdAsync(_key, own.KeyString, byProjectId, default);
        var otherKey = await Connector.ConfirmKeyIdAsync(_key, own.KeyString, other.Name, default);
        var otherProject = await Connector.ConfirmKeyIdAsync(_key, foreign.KeyString, foreign.Name, default);
        var notAName = await Connector.ConfirmKeyIdAsync(_key, own.KeyString, "projects/x", default);

        Assert.Equal((KeyIdVerdict.Confirmed, own.Name), (confirmed.Verdict, confirmed.ProviderKeyId));
        Assert.Equal((KeyIdVerdict.Confirmed, own.Name), (spelledById.Verdict, spelledById.ProviderKeyId));
        Assert.Equal(KeyIdVerdict.Refused, otherKey.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, otherProject.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, notAName.Verdict);
        Assert.DoesNotContain(_google.Keys, k => k.Deleted);
    }

    [Fact]
    public async Task Revoke_refuses_a_key_named_as_serving_and_deletes_nothing()
    {
        var created = await Connector.CreateAsync(Request("rot-1"), default);

        var revoked = await Connector.RevokeAsync(new ConnectorRequest(_key, "rot-2", [created.ProviderKeyId!]), new RevokedVersion("v1", created.ProviderKeyId), default);

        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (revoked.Outcome, revoked.Transient));
        Assert.DoesNotContain(_google.Keys, k => k.Deleted);
        Assert.Equal(200, await ListModelsAsync(created.Value!));
    }

    private ConnectorRequest Request(string rotationId) => new(_key, rotationId, []);

    private async Task<ProviderKeyConfig> RegisterKeyAsync(bool registeredAccount)
    {
        _serviceAccountJson = _google.CreateServiceAccount(ProjectId, registeredAccount);
        var accountSecret = TestNames.NewSecretName("gcp-sa");
        await _harness.Store.SetAsync(accountSecret, _serviceAccountJson);
        return new ProviderKeyConfig
        {
            Name = "gem-" + Guid.NewGuid().ToString("N")[..8],
            Provider = "gemini",
            BaseUrl = _gemini.BaseUri,
            SecretName = TestNames.NewSecretName("gemini"),
            Connector = "gemini",
            ConnectorSettings = new Dictionary<string, string>
            {
                ["projectId"] = ProjectId,
                ["serviceAccountSecret"] = accountSecret,
                ["allowedIps"] = "203.0.113.7",
                ["apiKeysEndpoint"] = _google.BaseUri.AbsoluteUri,
            },
        };
    }

    private async Task<int> ListModelsAsync(string key)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_gemini.BaseUri, "v1beta/models"));
        request.Headers.Add("x-goog-api-key", key);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private void AssertNoSecretIn(string text)
    {
        Assert.DoesNotContain("PRIVATE KEY", text);
        Assert.DoesNotContain(System.Text.Json.Nodes.JsonNode.Parse(_serviceAccountJson)!["private_key_id"]!.GetValue<string>(), text);
        Assert.DoesNotContain("ya29.", text);
        Assert.DoesNotContain("AIza", text);
    }
}
