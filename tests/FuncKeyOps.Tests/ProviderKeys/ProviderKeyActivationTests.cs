using System.Net;
using System.Text.Json;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing.Providers;
using FuncKeyOps.Tests.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>
/// Only an activated version serves: staging never changes what the relay sends, and activation validates the value
/// with the provider first. "openai-a" sorts before the fixture's "openai-main", so it is the key the relay uses for OpenAI.
/// </summary>
public class ProviderKeyActivationTests
{
    private static FakeProvider Fake(RelayHost host, string provider) => provider switch
    {
        "openai" => host.OpenAI,
        "anthropic" => host.Anthropic,
        "gemini" => host.Gemini,
        _ => host.Azure,
    };

    private static async Task<IReadOnlyList<SecretVersionInfo>> VersionsAsync(RelayHost host, string name) =>
        await host.Services.GetRequiredService<ISecretStore>().ListVersionsAsync(name);

    [Fact]
    public async Task A_key_with_only_a_staged_version_answers_503_in_the_provider_shape_and_sends_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        var staged = "fake-staged-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(staged); // would answer 200 if the relay sent it
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        await StageAsync(host, "openai-a", staged);
        var before = host.OpenAI.Requests.Count;

        using var response = await host.Client.SendAsync(OpenAIChat(relayKey));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("no_active_provider_key", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        Assert.Equal(before, host.OpenAI.Requests.Count);
        await host.Server.WaitIdleAsync();
        var row = Assert.Single(await host.RowsAsync(null), r => r.ErrorCode == "no_active_provider_key");
        Assert.Equal(503, row.Status);
    }

    [Fact]
    public async Task Staging_a_second_version_keeps_the_active_one_serving_after_every_cache_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RelayHost.StartAsync(time: time);
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        var first = "fake-first-" + Guid.NewGuid().ToString("N");
        var second = "fake-second-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(first);
        host.OpenAI.AcceptKey(second);
        // A registration from before activation existed: no weights, its only version tagged active in the vault.
        host.Server.Vault.SetSecretDirect("openai-a", first, new Dictionary<string, string> { ["state"] = "active" });
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        using (var served = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("Bearer " + first, host.OpenAI.Requests[^1].Headers["Authorization"]);

        await StageAsync(host, "openai-a", second);
        // Past the secret cache's time to live and the registry's: both read again.
        time.Advance(TimeSpan.FromMinutes(6));
        using (var stale = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        await (host.Services.GetRequiredService<ProviderKeyRegistry>().LoadUnderWay ?? Task.CompletedTask);
        using (var refreshed = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);

        Assert.All(host.OpenAI.Requests.TakeLast(2), r => Assert.Equal("Bearer " + first, r.Headers["Authorization"]));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    [InlineData("gemini")]
    [InlineData("azure-openai")]
    public async Task Activation_refuses_a_value_the_provider_rejects_and_changes_nothing(string provider)
    {
        await using var host = await RelayHost.StartAsync();
        var fake = Fake(host, provider);
        var name = provider + "-a";
        await RegisterAsync(host, name, provider, fake.BaseUri);
        var bad = "fake-rejected-" + Guid.NewGuid().ToString("N");
        var version = await StageAsync(host, name, bad);
        var before = fake.Requests.Count;

        var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions/{version}/activate");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("provider_key_rejected", body.GetProperty("error").GetProperty("code").GetString());
        var text = body.GetRawText();
        Assert.DoesNotContain(bad, text);
        Assert.DoesNotContain("API key", text, StringComparison.OrdinalIgnoreCase); // the provider's own message is never echoed
        Assert.Equal(before + 1, fake.Requests.Count); // one validation call, not retried
        Assert.Empty((await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Pending, Assert.Single(await VersionsAsync(host, name)).State);
    }

    [Theory]
    [InlineData("openai", "/v1/models")]
    [InlineData("anthropic", "/v1/models")]
    [InlineData("gemini", "/v1beta/models")]
    [InlineData("azure-openai", "/openai/models")]
    public async Task Activation_validates_with_the_providers_list_models_call_and_moves_all_weight(string provider, string validationPath)
    {
        await using var host = await RelayHost.StartAsync();
        var fake = Fake(host, provider);
        var name = provider + "-a";
        await RegisterAsync(host, name, provider, fake.BaseUri);
        var good = "fake-good-" + Guid.NewGuid().ToString("N");
        fake.AcceptKey(good);
        var version = await StageAsync(host, name, good);

        var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions/{version}/activate");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("active", body.GetProperty("state").GetString());
        Assert.DoesNotContain(good, body.GetRawText());
        var validation = fake.Requests[^1];
        Assert.Equal(("GET", validationPath), (validation.Method, validation.Path));
        Assert.Equal(new Dictionary<string, int> { [version] = 100 }, (await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync(name))!.Weights);
        Assert.Equal(SecretVersionState.Active, Assert.Single(await VersionsAsync(host, name)).State);
    }

    [Fact]
    public async Task Activating_a_second_version_serves_it_tags_the_first_previous_and_a_rerun_changes_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        var first = "fake-first-" + Guid.NewGuid().ToString("N");
        var second = "fake-second-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(first);
        host.OpenAI.AcceptKey(second);
        var v1 = await StageAsync(host, "openai-a", first);
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{v1}/activate")).Response.StatusCode);
        using (var one = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal("Bearer " + first, host.OpenAI.Requests[^1].Headers["Authorization"]);

        var v2 = await StageAsync(host, "openai-a", second);
        Assert.Equal(HttpStatusCode.OK, (await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{v2}/activate")).Response.StatusCode);
        using (var two = await host.Client.SendAsync(OpenAIChat(relayKey)))
            Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        Assert.Equal("Bearer " + second, host.OpenAI.Requests[^1].Headers["Authorization"]);
        var states = (await VersionsAsync(host, "openai-a")).ToDictionary(v => v.Version, v => v.State);
        Assert.Equal(SecretVersionState.Previous, states[v1]);
        Assert.Equal(SecretVersionState.Active, states[v2]);

        var tables = host.Services.GetRequiredService<FuncKeyOps.Storage.TableStore>();
        var table = await tables.GetTableAsync(FuncKeyOps.Storage.TableNames.ProviderKeys);
        var rowBefore = (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("provider", "openai-a")).Value.ETag;
        var (again, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{v2}/activate");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False(body.GetProperty("changed").GetBoolean());
        Assert.Equal(rowBefore, (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("provider", "openai-a")).Value.ETag);
        Assert.Equal(states, (await VersionsAsync(host, "openai-a")).ToDictionary(v => v.Version, v => v.State));
        Assert.Equal(new Dictionary<string, int> { [v2] = 100 }, (await registry.GetAsync("openai-a"))!.Weights);
    }

    /// <summary>A crash after write (1) tag active, or after (2) move the weight: the state left behind, then a re-run.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_rerun_after_a_crash_between_the_writes_reaches_the_same_end_state(int writesDone)
    {
        await using var host = await RelayHost.StartAsync();
        var store = host.Services.GetRequiredService<ISecretStore>();
        var registry = host.Services.GetRequiredService<ProviderKeyRegistry>();
        var v1 = Assert.Single((await registry.GetAsync("openai-main"))!.Weights.Keys);
        var second = "fake-second-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(second);
        var v2 = await StageAsync(host, "openai-main", second);
        await store.UpdateAsync("openai-main", v2, new SecretVersionUpdate(Tags: new Dictionary<string, string> { ["state"] = "active" }));
        if (writesDone == 2)
            await registry.SetWeightsAsync("openai-main", new Dictionary<string, int> { [v2] = 100 });

        var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-main/versions/{v2}/activate");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.GetProperty("changed").GetBoolean());
        Assert.Equal(new Dictionary<string, int> { [v2] = 100 }, (await registry.GetAsync("openai-main"))!.Weights);
        var states = (await VersionsAsync(host, "openai-main")).ToDictionary(v => v.Version, v => v.State);
        Assert.Equal(SecretVersionState.Previous, states[v1]);
        Assert.Equal(SecretVersionState.Active, states[v2]);
    }

    [Fact]
    public async Task Activation_when_the_provider_cannot_be_reached_is_502_and_changes_nothing()
    {
        await using var host = await RelayHost.StartAsync();
        var closed = await FakeOpenAI.StartAsync("unused");
        var unreachable = closed.BaseUri;
        await closed.DisposeAsync();
        await RegisterAsync(host, "openai-a", "openai", unreachable);
        var version = await StageAsync(host, "openai-a", "fake-anything-123");

        var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{version}/activate");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("provider_unreachable", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Empty((await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-a"))!.Weights);
        Assert.Equal(SecretVersionState.Pending, Assert.Single(await VersionsAsync(host, "openai-a")).State);
    }

    [Fact]
    public async Task Activation_gives_up_on_a_provider_that_does_not_answer_within_the_validation_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await RelayHost.StartAsync(time: time);
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        var version = await StageAsync(host, "openai-a", "fake-anything-123");
        var before = host.OpenAI.Requests.Count;
        host.OpenAI.HangNext();

        var activation = AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{version}/activate");
        await host.OpenAI.WaitForRequestsAsync(before + 1);
        time.Advance(new ProviderKeyOptions().ValidationTimeout);
        var (response, body) = await activation;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("provider_unreachable", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(SecretVersionState.Pending, Assert.Single(await VersionsAsync(host, "openai-a")).State);
        host.OpenAI.ReleaseHangs();
    }

    [Fact]
    public async Task Activating_an_unknown_key_or_version_is_404()
    {
        await using var host = await RelayHost.StartAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await AdminAsync(host, HttpMethod.Post, "provider-keys/nope/versions/0123456789abcdef0123456789abcdef/activate")).Response.StatusCode);
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        await StageAsync(host, "openai-a", "fake-x-123");
        var (response, body) = await AdminAsync(host, HttpMethod.Post, "provider-keys/openai-a/versions/0123456789abcdef0123456789abcdef/activate");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", body.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_disabled_or_revoked_version_cannot_be_activated()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        var good = "fake-good-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(good);
        var disabled = await StageAsync(host, "openai-a", good);
        host.Server.Vault.SetEnabledDirect("openai-a", disabled, enabled: false);
        var revoked = host.Server.Vault.SetSecretDirect("openai-a", good, new Dictionary<string, string> { ["state"] = "revoked" });
        var before = host.OpenAI.Requests.Count;

        foreach (var version in new[] { disabled, revoked })
        {
            var (response, body) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{version}/activate");
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("version_unusable", body.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Equal(before, host.OpenAI.Requests.Count);
        Assert.Empty((await host.Services.GetRequiredService<ProviderKeyRegistry>().GetAsync("openai-a"))!.Weights);
    }

    [Fact]
    public async Task Staging_with_activate_validates_first_and_stores_nothing_the_provider_rejects()
    {
        await using var host = await RelayHost.StartAsync();
        var (_, relayKey) = await host.CreateRelayKeyAsync();
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);

        var (refused, _) = await AdminAsync(host, HttpMethod.Post, "provider-keys/openai-a/versions", new { value = "fake-rejected-123", activate = true });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Empty(await VersionsAsync(host, "openai-a"));

        var good = "fake-good-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(good);
        var (created, body) = await AdminAsync(host, HttpMethod.Post, "provider-keys/openai-a/versions", new { value = good, activate = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("active", body.GetProperty("state").GetString());
        using var served = await host.Client.SendAsync(OpenAIChat(relayKey));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal("Bearer " + good, host.OpenAI.Requests[^1].Headers["Authorization"]);
    }

    [Fact]
    public async Task Reading_a_key_shows_its_versions_with_state_and_weight_never_a_value()
    {
        await using var host = await RelayHost.StartAsync();
        await RegisterAsync(host, "openai-a", "openai", host.OpenAI.BaseUri);
        var good = "fake-good-" + Guid.NewGuid().ToString("N");
        host.OpenAI.AcceptKey(good);
        var v1 = await StageAsync(host, "openai-a", good);
        await AdminAsync(host, HttpMethod.Post, $"provider-keys/openai-a/versions/{v1}/activate");
        var v2 = await StageAsync(host, "openai-a", "fake-later-123");

        var (response, body) = await AdminAsync(host, HttpMethod.Get, "provider-keys/openai-a");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(good, body.GetRawText());
        var versions = body.GetProperty("versions").EnumerateArray().ToDictionary(v => v.GetProperty("version").GetString()!);
        Assert.Equal(("active", 100), (versions[v1].GetProperty("state").GetString(), versions[v1].GetProperty("weight").GetInt32()));
        Assert.Equal(("pending", 0), (versions[v2].GetProperty("state").GetString(), versions[v2].GetProperty("weight").GetInt32()));
        Assert.Equal(HttpStatusCode.NotFound, (await AdminAsync(host, HttpMethod.Get, "provider-keys/nope")).Response.StatusCode);
    }
}
