using System.Net;
using System.Text.Json;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Relay;
using FuncKeyOps.Tests.Server;
using Microsoft.Extensions.Time.Testing;
using OpenAI.Chat;
using static FuncKeyOps.Tests.ProviderKeys.ProviderKeyCalls;

namespace FuncKeyOps.Tests.Routing;

/// <summary>
/// Relay keys bound to named provider keys, and the provider's default for the unbound, through the Server host with
/// the official OpenAI SDK: the fake records the key each call carried.
/// </summary>
public class ProviderKeyBindingTests
{
    private const string TeamA = "team-a-openai";
    private const string TeamB = "team-b-openai";

    /// <summary>
    /// A host whose OpenAI has three keys: <c>openai-main</c> (a row from before defaults, so the default by name) and
    /// two team keys registered and activated through the admin API, each a vault secret of its own value.
    /// </summary>
    private static async Task<(RelayHost Host, string ValueA, string ValueB)> StartAsync(string? tablePrefix = null)
    {
        var host = await RelayHost.StartAsync(settings: tablePrefix is null ? null : new Dictionary<string, string?> { ["Storage:TablePrefix"] = tablePrefix });
        var values = new List<string>();
        foreach (var name in new[] { TeamA, TeamB })
        {
            var value = $"sk-{name}-{Guid.NewGuid():N}";
            host.OpenAI.AcceptKey(value);
            await RegisterAsync(host, name, "openai", host.OpenAI.BaseUri);
            var (activated, _) = await AdminAsync(host, HttpMethod.Post, $"provider-keys/{name}/versions", new { value, activate = true });
            Assert.Equal(HttpStatusCode.Created, activated.StatusCode);
            values.Add(value);
        }
        return (host, values[0], values[1]);
    }

    private static async Task<(string Id, string Secret)> CreateAsync(RelayHost host, object spec)
    {
        var (response, body) = await AdminAsync(host, HttpMethod.Post, "relay-keys", spec);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {body}");
        return (body.GetProperty("id").GetString()!, body.GetProperty("key").GetString()!);
    }

    /// <summary>One chat call with the official SDK; the provider key the fake saw on it.</summary>
    private static async Task<string> KeySeenAsync(Uri relayBase, FuncKeyOps.Testing.Providers.FakeOpenAI fake, string relayKey)
    {
        var before = fake.Requests.Count;
        await RelaySdks.OpenAIChat(relayBase, relayKey, retry: false).CompleteChatAsync([new UserChatMessage("hi")]);
        var seen = Assert.Single(fake.Requests.Skip(before));
        return seen.Header("Authorization")!["Bearer ".Length..];
    }

    private static Task<string> KeySeenAsync(RelayHost host, string relayKey) => KeySeenAsync(host.RelayBase("openai"), host.OpenAI, relayKey);

    [Fact]
    public async Task Two_relay_keys_bound_to_two_provider_keys_each_reach_the_provider_with_their_own_and_an_unbound_key_uses_the_default()
    {
        var (host, valueA, valueB) = await StartAsync();
        await using var _ = host;
        var (a, secretA) = await CreateAsync(host, new { tenant = "t", name = "a", providerKeys = new Dictionary<string, string> { ["openai"] = TeamA } });
        var (b, secretB) = await CreateAsync(host, new { tenant = "t", name = "b", providers = new[] { "openai" }, providerKeys = new Dictionary<string, string> { ["OpenAI"] = TeamB } });
        var (unbound, secretU) = await CreateAsync(host, new { tenant = "t", name = "u" });

        Assert.Equal(valueA, await KeySeenAsync(host, secretA));
        Assert.Equal(valueB, await KeySeenAsync(host, secretB));
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, secretU));

        var (_, read) = await AdminAsync(host, HttpMethod.Get, $"relay-keys/{b}");
        Assert.Equal(TeamB, read.GetProperty("providerKeys").GetProperty("openai").GetString());
        var (_, list) = await AdminAsync(host, HttpMethod.Get, "relay-keys");
        Assert.Empty(list.GetProperty("relayKeys").EnumerateArray().Single(k => k.GetProperty("id").GetString() == unbound).GetProperty("providerKeys").EnumerateObject());

        // The audit row names the provider key that served, never its value.
        Assert.Equal(TeamA, Assert.Single(await host.RowsAsync(a)).ProviderKeyName);
        Assert.Equal(TeamB, Assert.Single(await host.RowsAsync(b)).ProviderKeyName);
        Assert.Equal("openai-main", Assert.Single(await host.RowsAsync(unbound)).ProviderKeyName);
    }

    [Fact]
    public async Task Making_another_key_the_default_moves_unbound_traffic_at_once_and_the_default_cannot_be_deleted_while_others_exist()
    {
        var (host, valueA, _) = await StartAsync();
        await using var _ = host;
        var (_, unbound) = await CreateAsync(host, new { tenant = "t", name = "u" });
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, unbound));

        var (moved, body) = await AdminAsync(host, HttpMethod.Put, $"provider-keys/{TeamA}",
            new { provider = "openai", baseUrl = host.OpenAI.BaseUri.ToString(), secretName = TeamA, @default = true });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.True(body.GetProperty("default").GetBoolean());
        Assert.Equal(valueA, await KeySeenAsync(host, unbound));

        // Re-registering without "default" keeps it where it is.
        await RegisterAsync(host, TeamA, "openai", host.OpenAI.BaseUri);
        await RegisterAsync(host, "openai-main", "openai", host.OpenAI.BaseUri);
        var (_, list) = await AdminAsync(host, HttpMethod.Get, "provider-keys");
        var defaults = list.GetProperty("items").EnumerateArray()
            .Where(k => k.GetProperty("provider").GetString() == "openai" && k.GetProperty("default").GetBoolean())
            .Select(k => k.GetProperty("name").GetString());
        Assert.Equal([TeamA], defaults);
        var (_, one) = await AdminAsync(host, HttpMethod.Get, $"provider-keys/{TeamA}");
        Assert.True(one.GetProperty("key").GetProperty("default").GetBoolean());
        Assert.Equal(valueA, await KeySeenAsync(host, unbound));

        var (refused, error) = await AdminAsync(host, HttpMethod.Delete, $"provider-keys/{TeamA}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("provider_key_in_use", error.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("PUT provider-keys/openai-main", error.GetProperty("error").GetProperty("message").GetString());
        var (spare, _) = await AdminAsync(host, HttpMethod.Delete, "provider-keys/openai-main"); // no longer the default
        Assert.Equal(HttpStatusCode.NoContent, spare.StatusCode);
    }

    [Fact]
    public async Task Rebinding_applies_at_once_on_the_instance_that_made_it_and_within_the_relay_key_cache_ttl_on_another()
    {
        var prefix = TestNames.NewTablePrefix();
        var (host, valueA, valueB) = await StartAsync(prefix);
        await using var _ = host;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // Another instance of the same deployment: same tables and vault, its own caches and clock.
        await using var other = await ServerHost.StartAsync(settings: new Dictionary<string, string?> { ["Storage:TablePrefix"] = prefix }, vault: host.Server.Vault, time: time);
        var otherBase = new Uri(other.Client.BaseAddress!, "api/relay/openai/");
        var (id, secret) = await CreateAsync(host, new { tenant = "t", name = "r", providerKeys = new Dictionary<string, string> { ["openai"] = TeamA } });
        Assert.Equal(valueA, await KeySeenAsync(otherBase, host.OpenAI, secret)); // the other instance has it cached now

        var (patched, body) = await AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { providerKeys = new Dictionary<string, string> { ["openai"] = TeamB } });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal(TeamB, body.GetProperty("providerKeys").GetProperty("openai").GetString());
        Assert.Equal(valueB, await KeySeenAsync(host, secret));

        time.Advance(TimeSpan.FromSeconds(29)); // within RelayKeys:CacheTtl (30 s): the other instance may still use the old binding
        Assert.Equal(valueA, await KeySeenAsync(otherBase, host.OpenAI, secret));
        time.Advance(TimeSpan.FromSeconds(2)); // past it: it reads the row again before serving
        Assert.Equal(valueB, await KeySeenAsync(otherBase, host.OpenAI, secret));

        // null clears the binding: the provider's default serves again.
        var (cleared, _) = await AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new Dictionary<string, object?> { ["providerKeys"] = null });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal(host.ProviderKeyValues["openai"], await KeySeenAsync(host, secret));
    }

    [Fact]
    public async Task A_binding_whose_provider_key_was_removed_answers_503_bound_provider_key_missing_and_forwards_nothing()
    {
        var (host, valueA, _) = await StartAsync();
        await using var _ = host;
        var (id, secret) = await CreateAsync(host, new { tenant = "t", name = "r", providerKeys = new Dictionary<string, string> { ["openai"] = TeamA } });
        Assert.Equal(valueA, await KeySeenAsync(host, secret));
        var (deleted, _) = await AdminAsync(host, HttpMethod.Delete, $"provider-keys/{TeamA}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var forwarded = host.OpenAI.Requests.Count;

        using var response = await host.Client.SendAsync(OpenAIChat(secret));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = json.RootElement.GetProperty("error"); // OpenAI's own error shape
        Assert.Equal("bound_provider_key_missing", error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.Equal(forwarded, host.OpenAI.Requests.Count);
        Assert.Contains(await host.RowsAsync(id), r => r.ErrorCode == "bound_provider_key_missing" && r.Status == 503);

        // Another field can still be changed: the stale binding was accepted when written and is not checked again.
        var (other, _) = await AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { rpm = 5 });
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_binding_to_an_unknown_provider_or_name_is_400_naming_it_and_nothing_is_written()
    {
        var (host, _, _) = await StartAsync();
        await using var _ = host;
        (object Spec, string Named)[] cases =
        [
            (new { tenant = "t", name = "x", providerKeys = new Dictionary<string, string> { ["mistral"] = TeamA } }, "mistral"),
            (new { tenant = "t", name = "x", providerKeys = new Dictionary<string, string> { ["openai"] = "no-such-key" } }, "no-such-key"),
            (new { tenant = "t", name = "x", providerKeys = new Dictionary<string, string> { ["openai"] = "anthropic-main" } }, "anthropic-main"),
            (new { tenant = "t", name = "x", providerKeys = new Dictionary<string, string> { ["openai"] = "bad name!" } }, "providerKeys.openai"),
            (new { tenant = "t", name = "x", providers = new[] { "anthropic" }, providerKeys = new Dictionary<string, string> { ["openai"] = TeamA } }, "not in the key's providers"),
        ];
        var (_, before) = await AdminAsync(host, HttpMethod.Get, "relay-keys");
        foreach (var (spec, named) in cases)
        {
            var (response, body) = await AdminAsync(host, HttpMethod.Post, "relay-keys", spec);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{named}: {response.StatusCode}");
            Assert.Equal("invalid_request", body.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains(named, body.GetProperty("error").GetProperty("message").GetString());
        }
        var (_, after) = await AdminAsync(host, HttpMethod.Get, "relay-keys");
        Assert.Equal(before.GetProperty("relayKeys").GetArrayLength(), after.GetProperty("relayKeys").GetArrayLength());

        var (id, _) = await CreateAsync(host, new { tenant = "t", name = "ok", providerKeys = new Dictionary<string, string> { ["openai"] = TeamA } });
        var (patched, error) = await AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { providerKeys = new Dictionary<string, string> { ["openai"] = "no-such-key" } });
        Assert.Equal(HttpStatusCode.BadRequest, patched.StatusCode);
        Assert.Contains("no-such-key", error.GetProperty("error").GetProperty("message").GetString());
        var (narrowed, _) = await AdminAsync(host, HttpMethod.Patch, $"relay-keys/{id}", new { providers = new[] { "anthropic" } });
        Assert.Equal(HttpStatusCode.BadRequest, narrowed.StatusCode); // the binding would no longer be allowed
        var (_, read) = await AdminAsync(host, HttpMethod.Get, $"relay-keys/{id}");
        Assert.Equal(TeamA, read.GetProperty("providerKeys").GetProperty("openai").GetString());
    }
}
