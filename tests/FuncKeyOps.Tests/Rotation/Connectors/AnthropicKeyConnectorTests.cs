using FuncKeyOps.Rotation.Connectors;
using FuncKeyOps.Testing.Providers;

namespace FuncKeyOps.Tests.Rotation.Connectors;

/// <summary>The <c>anthropic</c> connector against the fake's Admin API over real HTTP, admin key read from the test vault.</summary>
public class AnthropicKeyConnectorTests
{
    private sealed record Setup(ConnectorHarness Harness, FakeAnthropic Fake, IKeyConnector Connector, string AdminKey, ConnectorRequest Request) : IAsyncDisposable
    {
        /// <summary>A key an operator made in the Console and staged as a vault version of the provider key.</summary>
        public async Task<(string Value, string Id, string Version)> StageAsync()
        {
            var value = "fake-anthropic-" + Guid.NewGuid().ToString("N");
            var id = Fake.Admin.AddKey(value, "relay " + Request.Key.Name);
            var version = await Harness.Store.SetAsync(Request.Key.SecretName, value);
            return (value, id, version.Version);
        }

        public async ValueTask DisposeAsync()
        {
            await Fake.DisposeAsync();
            await Harness.DisposeAsync();
        }
    }

    private static async Task<Setup> StartAsync(string? vaultAdminKey = null)
    {
        var harness = await ConnectorHarness.StartAsync();
        var fake = await FakeAnthropic.StartAsync();
        var adminKey = "fake-anthropic-admin-" + Guid.NewGuid().ToString("N");
        fake.Admin.AcceptAdminKey(adminKey);
        var settings = new Dictionary<string, string> { [AdminAccess.AdminKeySecretSetting] = await harness.StoreAdminKeyAsync(vaultAdminKey ?? adminKey) };
        var request = ConnectorHarness.Request(ConnectorHarness.Key("anthropic", fake.BaseUri, settings));
        return new Setup(harness, fake, harness.Connector("anthropic"), adminKey, request);
    }

    [Fact]
    public async Task Create_waits_for_an_operator_without_calling_the_provider()
    {
        await using var s = await StartAsync();

        var created = await s.Connector.CreateAsync(s.Request, CancellationToken.None);

        Assert.Equal(ConnectorCreateOutcome.AwaitingOperator, created.Outcome);
        Assert.Null(created.Value);
        Assert.Contains($"provider-keys/{s.Request.Key.Name}/versions", created.Detail);
        Assert.Empty(s.Fake.Requests);
    }

    [Fact]
    public async Task Revoke_by_provider_key_id_deactivates_the_key_and_a_second_revoke_finds_it_gone()
    {
        await using var s = await StartAsync();
        var (value, id, version) = await s.StageAsync();
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "anthropic", value));

        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, revoked.Outcome);
        Assert.Equal("inactive", s.Fake.Admin.StatusOf(id));
        Assert.Equal(401, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "anthropic", value));

        var again = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);
        Assert.Equal(ConnectorRevokeOutcome.AlreadyGone, again.Outcome);
        Assert.Single(s.Fake.Requests, r => r.Method == "POST"); // the second revoke changed nothing
    }

    [Fact]
    public async Task Revoke_without_an_id_finds_the_key_by_its_partial_hint_and_shows_neither_hint_nor_value()
    {
        await using var s = await StartAsync();
        var others = new[] { await s.StageAsync(), await s.StageAsync() };
        var (value, id, version) = await s.StageAsync();

        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, null), CancellationToken.None);

        Assert.Equal(ConnectorRevokeOutcome.Revoked, revoked.Outcome);
        Assert.Contains(id, revoked.Detail);
        Assert.Equal("inactive", s.Fake.Admin.StatusOf(id));
        Assert.All(others, o => Assert.Equal("active", s.Fake.Admin.StatusOf(o.Id)));
        Assert.Equal(401, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "anthropic", value));
        foreach (var text in new[] { revoked.Detail!, s.Harness.Logs.AllText })
        {
            ConnectorHarness.AssertNoPartOf(value, text);
            Assert.DoesNotContain(value[..16] + "...", text); // the fake's hint
            ConnectorHarness.AssertNoPartOf(s.AdminKey, text);
        }
    }

    [Fact]
    public async Task Revoke_without_an_id_and_no_fitting_hint_fails_for_good()
    {
        await using var s = await StartAsync();
        await s.StageAsync();
        var unlisted = await s.Harness.Store.SetAsync(s.Request.Key.SecretName, "fake-anthropic-" + Guid.NewGuid().ToString("N"));

        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(unlisted.Version, null), CancellationToken.None);

        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (revoked.Outcome, revoked.Transient));
        Assert.Contains("deactivate its key in the Console", revoked.Detail);
        Assert.DoesNotContain(s.Fake.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task An_archived_or_unknown_key_is_already_gone()
    {
        await using var s = await StartAsync();
        var (_, id, version) = await s.StageAsync();
        s.Fake.Admin.SetStatus(id, "archived");

        var archived = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);
        var unknown = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, "apikey_01NoSuchKeyAtTheFake0000"), CancellationToken.None);

        Assert.Equal((ConnectorRevokeOutcome.AlreadyGone, ConnectorRevokeOutcome.AlreadyGone), (archived.Outcome, unknown.Outcome));
        Assert.DoesNotContain(s.Fake.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task A_refused_admin_key_fails_for_good_and_appears_in_no_detail_or_log()
    {
        var wrongKey = "fake-anthropic-admin-wrong-" + Guid.NewGuid().ToString("N");
        await using var s = await StartAsync(vaultAdminKey: wrongKey);
        var (_, id, version) = await s.StageAsync();

        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);

        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (revoked.Outcome, revoked.Transient));
        Assert.Contains("refused the admin key (401)", revoked.Detail);
        Assert.Equal("active", s.Fake.Admin.StatusOf(id));
        foreach (var text in new[] { revoked.Detail!, s.Harness.Logs.AllText })
        {
            ConnectorHarness.AssertNoPartOf(wrongKey, text);
            ConnectorHarness.AssertNoPartOf(s.AdminKey, text);
        }
    }

    [Fact]
    public async Task Server_errors_are_retried_then_reported_transient()
    {
        await using var s = await StartAsync();
        var (_, id, version) = await s.StageAsync();

        s.Fake.FailNext(529, times: 3);
        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);

        Assert.Equal((ConnectorRevokeOutcome.Failed, true), (revoked.Outcome, revoked.Transient));
        Assert.Equal(3, s.Fake.Requests.Count);
        Assert.Equal("active", s.Fake.Admin.StatusOf(id));

        var rerun = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, id), CancellationToken.None);
        Assert.Equal(ConnectorRevokeOutcome.Revoked, rerun.Outcome);
    }

    [Fact]
    public async Task A_staged_key_id_is_confirmed_only_when_its_partial_hint_fits_the_value()
    {
        await using var s = await StartAsync();
        var (value, id, _) = await s.StageAsync();
        var (_, otherId, _) = await s.StageAsync();

        var own = await s.Connector.ConfirmKeyIdAsync(s.Request.Key, value, id, CancellationToken.None);
        var other = await s.Connector.ConfirmKeyIdAsync(s.Request.Key, value, otherId, CancellationToken.None);
        var unknown = await s.Connector.ConfirmKeyIdAsync(s.Request.Key, value, "apikey_01nothere", CancellationToken.None);

        Assert.Equal((KeyIdVerdict.Confirmed, id), (own.Verdict, own.ProviderKeyId));
        Assert.Equal(KeyIdVerdict.Refused, other.Verdict);
        Assert.Equal(KeyIdVerdict.Refused, unknown.Verdict);
        ConnectorHarness.AssertNoPartOf(value, other.ToString());
    }

    [Fact]
    public async Task Revoke_refuses_a_provider_key_id_tag_that_names_another_key_and_leaves_that_key_active()
    {
        await using var s = await StartAsync();
        var (_, _, version) = await s.StageAsync();
        var (otherValue, otherId, _) = await s.StageAsync();

        var revoked = await s.Connector.RevokeAsync(s.Request, new RevokedVersion(version, otherId), CancellationToken.None);

        Assert.Equal((ConnectorRevokeOutcome.Failed, false), (revoked.Outcome, revoked.Transient));
        Assert.Equal("active", s.Fake.Admin.StatusOf(otherId));
        Assert.Equal(200, await ConnectorHarness.ListModelsAsync(s.Fake.BaseUri, "anthropic", otherValue));
        Assert.DoesNotContain(s.Fake.Requests, r => r.Method == "POST");
    }
}
