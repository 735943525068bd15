using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text.Json;
using Azure;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using FuncKeyOps.Testing.Vault;
using Microsoft.Extensions.Logging;

namespace FuncKeyOps.Tests.Testing;

public sealed class TestVaultTests : IDisposable
{
    // A bound on every call, so a regression that hangs fails the test instead of the whole run.
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    [Fact]
    public async Task Set_then_get_round_trips_the_value_over_https()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        KeyVaultSecret set = await client.SetSecretAsync("openai-key", "sk-round-trip", Ct);
        KeyVaultSecret got = await client.GetSecretAsync("openai-key", cancellationToken: Ct);

        Assert.Equal("https", vault.VaultUri.Scheme);
        Assert.Equal("127.0.0.1", vault.VaultUri.Host);
        Assert.Equal("sk-round-trip", got.Value);
        Assert.Equal(set.Properties.Version, got.Properties.Version);
        Assert.Matches("^[0-9a-f]{32}$", got.Properties.Version);
        Assert.Equal(new Uri(vault.VaultUri, $"secrets/openai-key/{got.Properties.Version}"), got.Id);
        Assert.Equal(vault.VaultUri, got.Properties.VaultUri);
        Assert.True(got.Properties.Enabled);
        Assert.Equal("Recoverable+Purgeable", got.Properties.RecoveryLevel);
        Assert.NotNull(got.Properties.CreatedOn);
        Assert.Equal(2, vault.RequestCount);
    }

    [Fact]
    public async Task Get_by_version_returns_the_old_value_while_get_latest_returns_the_new()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        KeyVaultSecret first = await client.SetSecretAsync("pepper", "one", Ct);
        KeyVaultSecret second = await client.SetSecretAsync("pepper", "two", Ct);

        Assert.NotEqual(first.Properties.Version, second.Properties.Version);
        Assert.Equal("two", (await client.GetSecretAsync("pepper", cancellationToken: Ct)).Value.Value);
        Assert.Equal("one", (await client.GetSecretAsync("pepper", first.Properties.Version, Ct)).Value.Value);
        Assert.Equal("two", (await client.GetSecretAsync("pepper", second.Properties.Version, Ct)).Value.Value);
    }

    [Fact]
    public async Task Listing_versions_returns_every_version_with_its_tags_and_no_values()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        var v1 = new KeyVaultSecret("anthropic-key", "old") { Properties = { ContentType = "text/plain" } };
        v1.Properties.Tags["state"] = "previous";
        v1.Properties.Tags["providerKeyId"] = "key_1";
        var v2 = new KeyVaultSecret("anthropic-key", "new");
        v2.Properties.Tags["state"] = "active";
        KeyVaultSecret set1 = await client.SetSecretAsync(v1, Ct);
        KeyVaultSecret set2 = await client.SetSecretAsync(v2, Ct);

        var versions = new List<SecretProperties>();
        await foreach (var p in client.GetPropertiesOfSecretVersionsAsync("anthropic-key", Ct))
        {
            versions.Add(p);
        }

        Assert.Equal(2, versions.Count);
        var old = Assert.Single(versions, p => p.Version == set1.Properties.Version);
        var current = Assert.Single(versions, p => p.Version == set2.Properties.Version);
        Assert.Equal("previous", old.Tags["state"]);
        Assert.Equal("key_1", old.Tags["providerKeyId"]);
        Assert.Equal("text/plain", old.ContentType);
        Assert.Equal("active", current.Tags["state"]);
        Assert.Equal("anthropic-key", old.Name);
    }

    [Fact]
    public async Task Listing_follows_next_links_past_one_page()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();
        var seeded = Enumerable.Range(0, 30).Select(i => vault.SetSecretDirect("many", $"v{i}")).ToHashSet();
        vault.SetSecretDirect("other", "x");

        var listed = new List<string>();
        await foreach (var p in client.GetPropertiesOfSecretVersionsAsync("many", Ct))
        {
            listed.Add(p.Version);
        }

        var names = new List<string>();
        await foreach (var p in client.GetPropertiesOfSecretsAsync(Ct))
        {
            names.Add(p.Name);
            Assert.Null(p.Version);
        }

        Assert.Equal(seeded, listed.ToHashSet());
        Assert.Equal(30, listed.Count);
        Assert.Equal(["many", "other"], names);
        Assert.Equal(3, vault.RequestCount); // two pages of versions, one of secrets
    }

    [Fact]
    public async Task Updating_properties_is_reflected_on_read_and_a_disabled_version_cannot_be_read()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();
        KeyVaultSecret old = await client.SetSecretAsync("gemini-key", "old-value", Ct);
        await client.SetSecretAsync("gemini-key", "new-value", Ct);

        var expires = new DateTimeOffset(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);
        var props = old.Properties;
        props.Enabled = false;
        props.ExpiresOn = expires;
        props.Tags["state"] = "revoked";
        SecretProperties updated = await client.UpdateSecretPropertiesAsync(props, Ct);

        Assert.False(updated.Enabled);
        Assert.Equal(expires, updated.ExpiresOn);
        Assert.Equal("revoked", updated.Tags["state"]);
        Assert.Equal(old.Properties.Version, updated.Version);

        SecretProperties? listed = null;
        await foreach (var p in client.GetPropertiesOfSecretVersionsAsync("gemini-key", Ct))
        {
            if (p.Version == old.Properties.Version)
            {
                listed = p;
            }
        }

        Assert.NotNull(listed);
        Assert.False(listed.Enabled);
        Assert.Equal(expires, listed.ExpiresOn);
        Assert.Equal("revoked", listed.Tags["state"]);

        var error = await Assert.ThrowsAsync<RequestFailedException>(
            () => client.GetSecretAsync("gemini-key", old.Properties.Version, Ct));
        Assert.Equal(403, error.Status);
        Assert.Equal("Forbidden", error.ErrorCode);
        Assert.Contains("disabled", error.Message);
        Assert.DoesNotContain("old-value", error.Message);

        Assert.Equal("new-value", (await client.GetSecretAsync("gemini-key", cancellationToken: Ct)).Value.Value);
    }

    [Fact]
    public async Task Direct_seeding_and_disabling_are_seen_by_the_client_without_counting_as_requests()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();
        string version = vault.SetSecretDirect("seeded", "seed", new Dictionary<string, string> { ["state"] = "pending" }, "text/plain");

        KeyVaultSecret got = await client.GetSecretAsync("seeded", cancellationToken: Ct);
        vault.SetEnabledDirect("seeded", version, enabled: false);
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("seeded", cancellationToken: Ct));

        Assert.Equal("seed", got.Value);
        Assert.Equal("pending", got.Properties.Tags["state"]);
        Assert.Equal("text/plain", got.Properties.ContentType);
        Assert.Equal(403, error.Status);
        Assert.Equal(2, vault.RequestCount);
        Assert.Throws<ArgumentException>(() => vault.SetSecretDirect("no_underscores", "x"));
        Assert.Throws<InvalidOperationException>(() => vault.SetEnabledDirect("seeded", new string('f', 32), true));
    }

    [Fact]
    public async Task Concurrent_writes_each_create_their_own_version()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        var sets = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.SetSecretAsync("busy", $"value-{i}", Ct)));

        var versions = new HashSet<string>();
        await foreach (var p in client.GetPropertiesOfSecretVersionsAsync("busy", Ct))
        {
            versions.Add(p.Version);
        }

        Assert.Equal(sets.Select(r => r.Value.Properties.Version).ToHashSet(), versions);
        Assert.Equal(20, versions.Count);
    }

    [Fact]
    public async Task A_missing_secret_is_404_SecretNotFound()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("nope", cancellationToken: Ct));

        Assert.Equal(404, error.Status);
        Assert.Equal("SecretNotFound", error.ErrorCode);

        vault.SetSecretDirect("present", "x");
        var missingVersion = await Assert.ThrowsAsync<RequestFailedException>(
            () => client.GetSecretAsync("present", new string('0', 32), Ct));
        Assert.Equal(404, missingVersion.Status);
        Assert.Equal("SecretNotFound", missingVersion.ErrorCode);
    }

    [Fact]
    public async Task An_invalid_name_is_400_BadParameter()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.SetSecretAsync("bad_name", "x", Ct));

        Assert.Equal(400, error.Status);
        Assert.Equal("BadParameter", error.ErrorCode);
    }

    [Fact]
    public async Task Delete_completes_then_the_secret_is_gone_until_recovered_and_purge_removes_it()
    {
        await using var vault = await TestVault.StartAsync();
        var client = vault.CreateSecretClient();
        await client.SetSecretAsync("alert-webhook", "https://hooks.example/abc", Ct);

        DeleteSecretOperation delete = await client.StartDeleteSecretAsync("alert-webhook", Ct);
        DeletedSecret deleted = await delete.WaitForCompletionAsync(Ct);

        Assert.True(delete.HasCompleted);
        Assert.Equal("alert-webhook", deleted.Name);
        Assert.Equal(new Uri(vault.VaultUri, "deletedsecrets/alert-webhook"), deleted.RecoveryId);
        Assert.NotNull(deleted.DeletedOn);
        Assert.Equal(deleted.DeletedOn!.Value.AddDays(90), deleted.ScheduledPurgeDate);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("alert-webhook", cancellationToken: Ct));
        Assert.Equal(404, error.Status);
        Assert.Equal("SecretNotFound", error.ErrorCode);

        // The name cannot be reused while it sits in the recycle bin, as in the real service.
        var conflict = await Assert.ThrowsAsync<RequestFailedException>(() => client.SetSecretAsync("alert-webhook", "again", Ct));
        Assert.Equal(409, conflict.Status);

        RecoverDeletedSecretOperation recover = await client.StartRecoverDeletedSecretAsync("alert-webhook", Ct);
        await recover.WaitForCompletionAsync(Ct);
        Assert.Equal("https://hooks.example/abc", (await client.GetSecretAsync("alert-webhook", cancellationToken: Ct)).Value.Value);

        await (await client.StartDeleteSecretAsync("alert-webhook", Ct)).WaitForCompletionAsync(Ct);
        await client.PurgeDeletedSecretAsync("alert-webhook", Ct);
        var purged = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetDeletedSecretAsync("alert-webhook", Ct));
        Assert.Equal(404, purged.Status);
        await client.SetSecretAsync("alert-webhook", "reused", Ct);
    }

    [Fact]
    public async Task Stop_makes_calls_fail_and_StartAgain_serves_the_same_data_on_the_same_port()
    {
        await using var vault = await TestVault.StartAsync();
        // No retries: the failure should surface at once instead of after the SDK's backoff.
        var client = vault.CreateSecretClient(o => o.Retry.MaxRetries = 0);
        KeyVaultSecret set = await client.SetSecretAsync("survivor", "still-here", Ct);
        var uri = vault.VaultUri;

        await vault.StopAsync();
        Assert.False(vault.IsRunning);
        var failure = await Assert.ThrowsAnyAsync<Exception>(() => client.GetSecretAsync("survivor", cancellationToken: Ct));
        Assert.True(failure is RequestFailedException or HttpRequestException, failure.GetType().FullName);

        await vault.StartAgainAsync(Ct);
        Assert.Equal(uri, vault.VaultUri);
        KeyVaultSecret got = await client.GetSecretAsync("survivor", cancellationToken: Ct);
        Assert.Equal("still-here", got.Value);
        Assert.Equal(set.Properties.Version, got.Properties.Version);
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_fails_the_tls_handshake()
    {
        await using var vault = await TestVault.StartAsync();
        var untrusting = new SecretClient(vault.VaultUri, vault.Credential, new SecretClientOptions
        {
            Transport = new HttpClientTransport(new SocketsHttpHandler()),
            DisableChallengeResourceVerification = true,
            Retry = { MaxRetries = 0 },
        });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => untrusting.GetSecretAsync("anything", cancellationToken: Ct));

        Assert.Contains(Chain(error), e => e is AuthenticationException);
        Assert.Equal(0, vault.RequestCount);

        using var plain = new HttpClient();
        var direct = await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(vault.VaultUri, Ct));
        Assert.Contains(Chain(direct), e => e is AuthenticationException);
    }

    [Fact]
    public async Task A_handler_pinning_the_thumbprint_reaches_the_vault_and_an_unauthenticated_call_gets_the_challenge()
    {
        await using var vault = await TestVault.StartAsync();
        using var http = new HttpClient(vault.CreateTrustingHandler());

        using var response = await http.GetAsync(new Uri(vault.VaultUri, "secrets/x?api-version=7.6"), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.Contains("resource=\"https://vault.azure.net\"", challenge.Parameter);
        Assert.Contains($"authorization=\"https://login.microsoftonline.com/{TestVault.TenantId}\"", challenge.Parameter);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal("Unauthorized", body.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(0, vault.RequestCount);
        Assert.Matches("^[0-9A-F]{40}$", vault.CertificateThumbprint);
    }

    [Fact]
    public async Task The_wire_json_has_key_vaults_shape_and_omits_null_fields()
    {
        await using var vault = await TestVault.StartAsync();
        string version = vault.SetSecretDirect("shape", "v", new Dictionary<string, string> { ["state"] = "active" });
        using var http = new HttpClient(vault.CreateTrustingHandler());
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "anything");

        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(vault.VaultUri, "secrets/shape/?api-version=7.6"), Ct));

        var root = doc.RootElement;
        Assert.Equal("v", root.GetProperty("value").GetString());
        Assert.Equal($"{vault.VaultUri}secrets/shape/{version}", root.GetProperty("id").GetString());
        Assert.Equal("active", root.GetProperty("tags").GetProperty("state").GetString());
        var attributes = root.GetProperty("attributes");
        Assert.True(attributes.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Number, attributes.GetProperty("created").ValueKind);
        Assert.Equal(JsonValueKind.Number, attributes.GetProperty("updated").ValueKind);
        Assert.Equal("Recoverable+Purgeable", attributes.GetProperty("recoveryLevel").GetString());
        Assert.False(attributes.TryGetProperty("exp", out _));
        Assert.False(root.TryGetProperty("contentType", out _));
        Assert.False(root.TryGetProperty("kid", out _));
        Assert.False(root.TryGetProperty("managed", out _));
        Assert.Equal(1, vault.RequestCount);
    }

    [Fact]
    public async Task The_vault_logs_no_secret_value()
    {
        const string canary = "canary-7f3a9c1e-vault-value";
        var sink = new CapturingLoggerProvider();
        await using var vault = await TestVault.StartAsync(new TestVaultOptions
        {
            ConfigureLogging = logging => logging.AddProvider(sink),
        });
        var client = vault.CreateSecretClient();

        KeyVaultSecret set = await client.SetSecretAsync("canary", canary, Ct);
        await client.GetSecretAsync("canary", cancellationToken: Ct);
        set.Properties.Enabled = false;
        await client.UpdateSecretPropertiesAsync(set.Properties, Ct);
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetSecretAsync("canary", cancellationToken: Ct));
        await vault.StopAsync();

        Assert.DoesNotContain(canary, error.Message);
        Assert.DoesNotContain(sink.Lines, line => line.Contains(canary, StringComparison.Ordinal));
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{category} {logLevel} {formatter(state, exception)} {exception}");
        }
    }
}
