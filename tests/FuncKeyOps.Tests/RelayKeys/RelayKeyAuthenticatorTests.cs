using Azure.Data.Tables;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeyAuthenticatorTests
{
    private static readonly RelayKeySpec Spec = new()
    {
        Tenant = "contoso",
        Name = "checkout-service",
        Providers = ["openai", "anthropic"],
        Models = ["gpt-4o-mini"],
        AllowedIps = ["10.1.0.0/16", "203.0.113.7"],
        Rpm = 60,
        DailyTokens = 100_000,
        MonthlyTokens = 2_000_000,
    };

    [Fact]
    public async Task A_created_key_authenticates_and_carries_its_fields()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());

        var (created, secret) = await app.Keys.CreateAsync(Spec);
        var result = await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow());

        Assert.True(result.Succeeded, result.Message);
        Assert.Null(result.Failure);
        var key = result.Key!;
        Assert.Equal(created.Id, key.Id);
        Assert.Equal("contoso", key.Tenant);
        Assert.Equal(["openai", "anthropic"], key.Providers);
        Assert.Equal(["gpt-4o-mini"], key.Models);
        Assert.Equal(["10.1.0.0/16", "203.0.113.7/32"], key.AllowedIps.Select(n => n.ToString()));
        Assert.Equal((60, 100_000L, 2_000_000L), (key.Rpm!.Value, key.DailyTokens!.Value, key.MonthlyTokens!.Value));
        Assert.Equal(RelayKeyStatus.Active, key.Status);
        Assert.Equal(RelayKeysInstance.Start, key.CreatedAt);
    }

    [Fact]
    public async Task Missing_malformed_unknown_and_wrong_secret_keys_fail_with_their_own_kind()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (created, secret) = await app.Keys.CreateAsync(Spec);
        var now = app.Time.GetUtcNow();

        Assert.Equal(RelayKeyFailure.Missing, (await app.Authenticator.AuthenticateAsync(null, now)).Failure);
        Assert.Equal(RelayKeyFailure.Missing, (await app.Authenticator.AuthenticateAsync("", now)).Failure);
        Assert.Equal(RelayKeyFailure.Malformed, (await app.Authenticator.AuthenticateAsync("sk-proj-notarelaykey", now)).Failure);
        Assert.Equal(RelayKeyFailure.Malformed, (await app.Authenticator.AuthenticateAsync(secret + "x", now)).Failure);

        var otherId = RelayKeyFormat.Compose(RelayKeyFormat.NewId(), secret[^RelayKeyFormat.SecretLength..]);
        var unknown = await app.Authenticator.AuthenticateAsync(otherId, now);
        Assert.Equal(RelayKeyFailure.Unknown, unknown.Failure);
        Assert.Null(unknown.Claimed);

        var otherSecret = RelayKeyFormat.Compose(created.Id, RelayKeyFormat.NewSecret());
        var wrong = await app.Authenticator.AuthenticateAsync(otherSecret, now);
        Assert.Equal(RelayKeyFailure.WrongSecret, wrong.Failure);
        Assert.Null(wrong.Key);
        // Named for the audit row, with one answer for all three: the client cannot tell which ids exist.
        Assert.Equal(created.Id, wrong.Claimed?.Id);
        Assert.Equal(wrong.Message, unknown.Message);
        Assert.Equal(wrong.Message, (await app.Authenticator.AuthenticateAsync(secret + "x", now)).Message);
    }

    [Fact]
    public async Task Suspension_takes_effect_at_once_on_the_same_instance_and_resume_restores_the_key()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (created, secret) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Succeeded);

        Assert.Equal(RelayKeyStatus.Suspended, (await app.Keys.SuspendAsync(created.Id))!.Status);
        Assert.Equal(RelayKeyFailure.Suspended, (await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Failure);

        Assert.Equal(RelayKeyStatus.Active, (await app.Keys.ResumeAsync(created.Id))!.Status);
        Assert.True((await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task Revocation_is_final()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (created, secret) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Succeeded);

        Assert.Equal(RelayKeyStatus.Revoked, (await app.Keys.RevokeAsync(created.Id))!.Status);
        Assert.Equal(RelayKeyFailure.Revoked, (await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Failure);

        var resume = await Assert.ThrowsAsync<RelayKeyConflictException>(() => app.Keys.ResumeAsync(created.Id));
        Assert.Equal(RelayKeyStatus.Revoked, resume.Current);
        await Assert.ThrowsAsync<RelayKeyConflictException>(() => app.Keys.SuspendAsync(created.Id));
        Assert.Equal(RelayKeyStatus.Revoked, (await app.Keys.RevokeAsync(created.Id))!.Status);
        Assert.Equal(RelayKeyStatus.Revoked, (await app.Keys.GetAsync(created.Id))!.Status);
        Assert.Equal(RelayKeyFailure.Revoked, (await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Failure);
    }

    [Fact]
    public async Task Status_changes_of_an_absent_key_report_absence()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var id = RelayKeyFormat.NewId();

        Assert.Null(await app.Keys.GetAsync(id));
        Assert.Null(await app.Keys.SuspendAsync(id));
        Assert.Null(await app.Keys.ResumeAsync(id));
        Assert.Null(await app.Keys.RevokeAsync(id));
        Assert.Null(await app.Keys.GetAsync("not an id/../x"));
    }

    [Fact]
    public async Task A_key_expires_at_its_expiry_time()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (_, secret) = await app.Keys.CreateAsync(Spec with { ExpiresAt = app.Time.GetUtcNow().AddHours(1) });

        app.Time.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(1));
        Assert.True((await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Succeeded);

        app.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RelayKeyFailure.Expired, (await app.Authenticator.AuthenticateAsync(secret, app.Time.GetUtcNow())).Failure);
    }

    [Fact]
    public async Task Another_instance_sees_a_suspension_once_its_cache_ttl_has_passed_and_not_before()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix);
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix);
        var (created, secret) = await a.Keys.CreateAsync(Spec);
        Assert.True((await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Succeeded);

        await a.Keys.SuspendAsync(created.Id);
        Assert.Equal(RelayKeyFailure.Suspended, (await a.Authenticator.AuthenticateAsync(secret, a.Time.GetUtcNow())).Failure);

        // The documented bound: B trusts its copy of the row for RelayKeys:CacheTtl (default 30 s).
        b.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.True((await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Succeeded);
        b.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(RelayKeyFailure.Suspended, (await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Failure);
    }

    [Fact]
    public async Task Rows_are_refreshed_ahead_in_the_background_in_the_last_fifth_of_the_ttl()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix);
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix);
        var (created, secret) = await a.Keys.CreateAsync(Spec);
        Assert.True((await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Succeeded);
        await a.Keys.SuspendAsync(created.Id);

        b.Time.Advance(TimeSpan.FromSeconds(25));
        // Served from memory at once; the read it started replaces the row.
        Assert.True((await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Succeeded);
        if (b.Cache.LoadUnderWay(created.Id) is { } refresh) // under load the background read may have finished already
            await refresh;
        Assert.Equal(RelayKeyFailure.Suspended, (await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Failure);
    }

    [Fact]
    public async Task The_cache_ttl_comes_from_configuration()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix);
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix, settings: new Dictionary<string, string?> { ["RelayKeys:CacheTtl"] = "00:00:05" });
        var (created, secret) = await a.Keys.CreateAsync(Spec);
        Assert.True((await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Succeeded);
        await a.Keys.SuspendAsync(created.Id);

        b.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(RelayKeyFailure.Suspended, (await b.Authenticator.AuthenticateAsync(secret, b.Time.GetUtcNow())).Failure);
    }

    [Fact]
    public async Task Authentication_reads_neither_the_vault_nor_storage_while_the_caches_are_fresh()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix);
        var (created, secret) = await a.Keys.CreateAsync(Spec);
        Assert.True((await a.Authenticator.AuthenticateAsync(secret, a.Time.GetUtcNow())).Succeeded);
        var vaultCalls = vault.RequestCount;

        // The row is changed behind the cache's back: a request that read storage would see it.
        var table = await a.Tables.GetTableAsync(TableNames.RelayKeys);
        var row = await table.GetEntityAsync<TableEntity>(TableKeys.RelayKeyPartition, created.Id);
        row.Value["Status"] = "suspended";
        await table.UpdateEntityAsync(row.Value, row.Value.ETag);

        for (var i = 0; i < 50; i++)
            Assert.True((await a.Authenticator.AuthenticateAsync(secret, a.Time.GetUtcNow())).Succeeded);
        Assert.Equal(vaultCalls, vault.RequestCount);
    }
}
