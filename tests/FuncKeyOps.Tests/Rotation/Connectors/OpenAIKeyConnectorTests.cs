using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>The <c>openai</c> connector against the fake's Admin API over real HTTP, admin key read from the test vault.</summary>
public class OpenAIKeyConnectorTests
{
    private sealed record Setup(ConnectorHarness Harness, FakeOpenAI Fake, IKeyConnector Connector, string ProjectId, string AdminKey, string AdminSecret) : IAsyncDisposable
    {
        public Dictionary<string, string> Settings(params (string Name, string Value)[] extra)
        {
            var settings = new Dictionary<string, string> { [OpenAIKeyConnector.ProjectIdSetting] = ProjectId, [AdminAccess.AdminKeySecretSetting] = AdminSecret };
            foreach (var (name, value) in extra)
                settings[name] = value;
            return settings;
        }

        public ConnectorRequest Request(string? rotationId = null, params (string Name, string Value)[] extra) =>
            ConnectorHarness.Request(ConnectorHarness.Key("openai", Fake.BaseUri, Settings(extra)), rotationId);

        public int Calls(string method, string pathEnd) => Fake.Requests.Count(r => r.Method == method && r.Path.EndsWith(pathEnd, StringComparison.Ordinal));

        public async ValueTask DisposeAsync()
        {
            await Fake.DisposeAsync();
            await Harness.DisposeAsync();
        }
    }

    private static async Task<Setup> StartAsync()
    {
        var harness = await ConnectorHarness.StartAsync();
        var fake = await FakeOpenAI.StartAsync();
        var adminKey = "fake-openai-admin-" + Guid.NewGuid().ToString("N");
        fake.Admin.AcceptAdminKey(adminKey);
        return new Setup(harness, fake, harness.Connector("openai"), fake.Admin.AddProject(), adminKey, await harness.StoreAdminKeyAsync(adminKey));
    }

    [Fact]
    public async Task Create_makes_a_key_that_works_and_revoke_makes_it_refused()
    {
        await using var s = await StartAsync();
        var request = s.Request();

        var created = await s.Connector.CreateAsync(request, CancellationToken.None);

        Assert.Equal(ConnectorCreateOutcome.Created, created.Outcome);
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", created.Value!));
        var key = Assert.Single(s.Fake.Admin.Keys(s.ProjectId));
        var account = Assert.Single(s.Fake.Admin.ServiceAccounts(s.ProjectId));
        Assert.Equal($"{account}/{key.Id}", created.ProviderKeyId);
        Assert.DoesNotContain(created.Value!, created.ToString());

        var revoked = await s.Connector.RevokeAsync(request, new RevokedVersion("v1", created.ProviderKeyId), CancellationToken.None);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, revoked.Outcome);
        Assert.Equal(401, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", created.Value!));
        Assert.Empty(s.Fake.Admin.Keys(s.ProjectId));
        Assert.Empty(s.Fake.Admin.ServiceAccounts(s.ProjectId)); // the account made for this rotation goes with its key
        ConnectorHarness.AssertNoPartOf(created.Value!, s.Harness.Logs.AllText);
        ConnectorHarness.AssertNoPartOf(s.AdminKey, s.Harness.Logs.AllText);
    }

    [Fact]
    public async Task A_configured_service_account_gets_a_key_named_after_the_rotation_and_keeps_living_after_revoke()
    {
        await using var s = await StartAsync();
        var account = s.Fake.Admin.AddServiceAccount(s.ProjectId, "relay");
        var request = s.Request(extra: (OpenAIKeyConnector.ServiceAccountIdSetting, account));

        var created = await s.Connector.CreateAsync(request, CancellationToken.None);

        Assert.Equal(ConnectorCreateOutcome.Created, created.Outcome);
        var key = Assert.Single(s.Fake.Admin.Keys(s.ProjectId));
        Assert.Equal((key.Id, OpenAIKeyConnector.KeyNameFor(request), account), (created.ProviderKeyId, key.Name, key.ServiceAccountId));
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", created.Value!));

        Assert.Equal(ConnectorRevokeOutcome.Revoked, (await s.Connector.RevokeAsync(request, new RevokedVersion("v1", created.ProviderKeyId), CancellationToken.None)).Outcome);
        Assert.Equal(401, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", created.Value!));
        Assert.Equal(new[] { account }, s.Fake.Admin.ServiceAccounts(s.ProjectId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Creating_twice_for_one_rotation_leaves_one_key_and_says_it_replaced_the_first(bool onConfiguredAccount)
    {
        await using var s = await StartAsync();
        var extra = onConfiguredAccount ? new[] { (OpenAIKeyConnector.ServiceAccountIdSetting, s.Fake.Admin.AddServiceAccount(s.ProjectId, "relay")) } : [];
        var request = s.Request(extra: extra);
        var other = await s.Connector.CreateAsync(s.Request(extra: extra), CancellationToken.None); // another rotation's key stays

        var first = await s.Connector.CreateAsync(request, CancellationToken.None);
        var second = await s.Connector.CreateAsync(request, CancellationToken.None);

        Assert.Equal(ConnectorCreateOutcome.Created, second.Outcome);
        Assert.Equal(2, s.Fake.Admin.Keys(s.ProjectId).Count);
        Assert.Contains("earlier attempt", second.Detail);
        Assert.Equal(401, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", first.Value!));
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", second.Value!));
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "openai", other.Value!));
        Assert.Equal(1, s.Calls("DELETE", first.ProviderKeyId!.Split('/')[^1]));
    }

    [Fact]
    public async Task Revoking_twice_answers_already_gone_the_second_time()
    {
        await using var s = await StartAsync();
        var request = s.Request();
        var created = await s.Connector.CreateAsync(request, CancellationToken.None);
        var version = new RevokedVersion("v1", created.ProviderKeyId);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, (await s.Connector.RevokeAsync(request, version, CancellationToken.None)).Outcome);
        var again = await s.Connector.RevokeAsync(request, version, CancellationToken.None);

        Assert.Equal(ConnectorRevokeOutcome.AlreadyGone, again.Outcome);
        Assert.False(again.Transient);
    }

    [Fact]
    public async Task A_refused_admin_key_fails_for_good_and_appears_in_no_detail_or_log()
    {
        await using var s = await StartAsync();
        var wrongKey = "fake-openai-admin-wrong-" + Guid.NewGuid().ToString("N");
        var settings = s.Settings((AdminAccess.AdminKeySecretSetting, await s.Harness.StoreAdminKeyAsync(wrongKey)));
        var request = ConnectorHarness.Request(ConnectorHarness.Key("openai", s.Fake.BaseUri, settings));

        var created = await s.Connector.CreateAsync(request, CancellationToken.None);
        var revoked = await s.Connector.RevokeAsync(request, new RevokedVersion("v1", "key_abc"), CancellationToken.None);

        Assert.Equal((ConnectorCreateOutcome.Failed, false), (created.Outcome, created.Transient));
        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (revoked.Outcome, revoked.Transient));
        Assert.Contains("refused the admin key (401)", created.Detail);
        Assert.Contains("refused the admin key (401)", revoked.Detail);
        foreach (var text in new[] { created.Detail!, revoked.Detail!, s.Harness.Logs.AllText })
        {
            ConnectorHarness.AssertNoPartOf(wrongKey, text);
            ConnectorHarness.AssertNoPartOf(s.AdminKey, text);
        }
        Assert.Contains("refused the admin key", s.Harness.Logs.AllText); // the failure is logged, without the key
    }

    [Fact]
    public async Task A_missing_admin_key_secret_fails_for_good_naming_the_secret()
    {
        await using var s = await StartAsync();
        var request = ConnectorHarness.Request(ConnectorHarness.Key("openai", s.Fake.BaseUri, s.Settings((AdminAccess.AdminKeySecretSetting, "no-such-admin-secret"))));

        var created = await s.Connector.CreateAsync(request, CancellationToken.None);

        Assert.Equal((ConnectorCreateOutcome.Failed, false), (created.Outcome, created.Transient));
        Assert.Contains("'no-such-admin-secret' is not in Key Vault", created.Detail);
        Assert.Empty(s.Fake.Requests);
    }

    [Fact]
    public async Task Server_errors_are_retried_then_reported_transient()
    {
        await using var s = await StartAsync();

        s.Fake.FailNext(503, times: 3);
        var created = await s.Connector.CreateAsync(s.Request(), CancellationToken.None);

        Assert.Equal((ConnectorCreateOutcome.Failed, true), (created.Outcome, created.Transient));
        Assert.Contains("503", created.Detail);
        Assert.Equal(3, s.Calls("GET", "/api_keys")); // the list and its two retries
        Assert.Empty(s.Fake.Admin.Keys(s.ProjectId));

        s.Fake.FailNext(429, times: 3);
        var revoked = await s.Connector.RevokeAsync(s.Request(), new RevokedVersion("v1", "key_abc"), CancellationToken.None);
        Assert.Equal((ConnectorRevokeOutcome.Failed, true), (revoked.Outcome, revoked.Transient));
    }

    [Fact]
    public async Task A_create_whose_answer_failed_is_not_resent_and_the_rerun_replaces_what_it_made()
    {
        await using var s = await StartAsync();
        var request = s.Request();

        // The account and its key are made, but the answer is a 500: the handler must not send the POST again.
        s.Fake.Admin.LoseNextCreateAnswer();
        var failed = await s.Connector.CreateAsync(request, CancellationToken.None);
        Assert.Equal((ConnectorCreateOutcome.Failed, true), (failed.Outcome, failed.Transient));
        Assert.Equal(1, s.Calls("POST", "/service_accounts"));

        var lost = Assert.Single(s.Fake.Admin.Keys(s.ProjectId));

        var rerun = await s.Connector.CreateAsync(request, CancellationToken.None);
        Assert.Equal(ConnectorCreateOutcome.Created, rerun.Outcome);
        Assert.NotEqual(lost.Id, Assert.Single(s.Fake.Admin.Keys(s.ProjectId)).Id);
        Assert.Contains(lost.Id, rerun.Detail);
    }

    [Fact]
    public async Task A_staged_key_id_is_confirmed_only_for_the_values_own_plain_key_of_the_project()
    {
        await using var s = await StartAsync();
        var account = s.Fake.Admin.AddServiceAccount(s.ProjectId, "operator");
        var (value, keyId) = s.Fake.Admin.AddKey(s.ProjectId, account, "staged");
        var (_, otherId) = s.Fake.Admin.AddKey(s.ProjectId, account, "someone else's");
        var key = s.Request().Key;

        var own = await s.Connector.ConfirmKeyIdAsync(key, value, keyId, CancellationToken.None);
        var other = await s.Connector.ConfirmKeyIdAsync(key, value, otherId, CancellationToken.None);
        var wholeAccount = await s.Connector.ConfirmKeyIdAsync(key, value, $"{account}/{keyId}", CancellationToken.None);
        var unknown = await s.Connector.ConfirmKeyIdAsync(key, value, "key_nothere", CancellationToken.None);

        Assert.Equal((KeyIdVerdict.Confirmed, keyId), (own.Verdict, own.ProviderKeyId));
        Assert.Equal(KeyIdVerdict.Refused, other.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, wholeAccount.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, unknown.Verdict);
        Assert.Equal(2, s.Fake.Admin.Keys(s.ProjectId).Count); // read only
        foreach (var answer in new[] { own, other, wholeAccount, unknown })
            ConnectorHarness.AssertNoPartOf(value, answer.ToString());
    }
}
