using Azure.Data.Tables;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Storage;
using FuncKeyOps.Testing.Vault;
using FuncKeyOps.Tests.Storage;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeyStorageTests
{
    private static readonly RelayKeySpec Spec = new() { Tenant = "contoso", Name = "batch-jobs", Providers = ["gemini"] };

    [Fact]
    public async Task The_stored_row_holds_neither_the_secret_nor_the_key_nor_the_pepper()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (created, key) = await app.Keys.CreateAsync(Spec);
        var secret = key[^RelayKeyFormat.SecretLength..];
        var pepper = (await app.Secrets.GetAsync(app.PepperSecretName)).Value;

        var table = await app.Tables.GetTableAsync(TableNames.RelayKeys);
        var row = (await table.GetEntityAsync<TableEntity>(TableKeys.RelayKeyPartition, created.Id)).Value;

        Assert.Equal("contoso", row.GetString("Tenant"));
        Assert.Equal(44, row.GetString("Hash").Length); // base64 of a 32-byte HMAC
        var values = row.Select(p => $"{p.Key}={p.Value}").ToList();
        Assert.All(values, v =>
        {
            Assert.DoesNotContain(secret, v, StringComparison.Ordinal);
            Assert.DoesNotContain(key, v, StringComparison.Ordinal);
            Assert.DoesNotContain(pepper, v, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToBase64String(System.Buffers.Text.Base64Url.DecodeFromChars(secret)), v, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task List_returns_every_key_and_get_reads_one()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        var (first, _) = await app.Keys.CreateAsync(Spec);
        var (second, _) = await app.Keys.CreateAsync(Spec with { Name = "interactive", Providers = [] });
        await app.Keys.SuspendAsync(second.Id);

        var (all, next) = await app.Keys.ListAsync(1000, null);
        Assert.Null(next);
        Assert.Equal(new[] { first.Id, second.Id }.Order(), all.Select(k => k.Id).Order());
        var read = await app.Keys.GetAsync(second.Id);
        Assert.Equal(("interactive", RelayKeyStatus.Suspended), (read!.Name, read.Status));
        Assert.Empty(read.Providers);
    }

    [Fact]
    public async Task An_unknown_id_is_remembered_for_the_negative_ttl_then_looked_up_again()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix, settings: new Dictionary<string, string?> { ["RelayKeys:NegativeCacheTtl"] = "00:00:10" });
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix);
        var (created, key) = await b.Keys.CreateAsync(Spec);
        var probedId = RelayKeyFormat.NewId();
        var probed = RelayKeyFormat.Compose(probedId, key[^RelayKeyFormat.SecretLength..]);
        Assert.Equal(RelayKeyFailure.Unknown, (await a.Authenticator.AuthenticateAsync(probed, a.Time.GetUtcNow())).Failure);

        // The probed id appears in storage behind A's back (a copy of B's row, so B's secret matches it).
        var table = await b.Tables.GetTableAsync(TableNames.RelayKeys);
        var row = (await table.GetEntityAsync<TableEntity>(TableKeys.RelayKeyPartition, created.Id)).Value;
        row.RowKey = probedId;
        await table.AddEntityAsync(row);

        a.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(RelayKeyFailure.Unknown, (await a.Authenticator.AuthenticateAsync(probed, a.Time.GetUtcNow())).Failure);
        a.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await a.Authenticator.AuthenticateAsync(probed, a.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task Unknown_ids_are_remembered_in_bounded_number()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(),
            settings: new Dictionary<string, string?> { ["RelayKeys:NegativeCacheCapacity"] = "3" });

        for (var i = 0; i < 10; i++)
        {
            var garbage = RelayKeyFormat.Compose(RelayKeyFormat.NewId(), RelayKeyFormat.NewSecret());
            Assert.Equal(RelayKeyFailure.Unknown, (await app.Authenticator.AuthenticateAsync(garbage, app.Time.GetUtcNow())).Failure);
            Assert.InRange(app.Cache.UnknownCount, 1, 3);
        }
    }

    [Fact]
    public async Task A_refresh_stuck_on_hanging_storage_does_not_hold_requests_past_the_ttl()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(), azurite.ConnectionString);
        var (created, key) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);

        // 25 s into the 30 s TTL: served from memory, and a read ahead of expiry starts, which storage never answers.
        azurite.Pause();
        app.Time.Advance(TimeSpan.FromSeconds(25));
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
        var refresh = app.Cache.LoadUnderWay(created.Id)!;
        Assert.False(refresh.IsCompleted);

        // Past the TTL with that read still hanging: the row is served instead of every request waiting on it.
        app.Time.Advance(TimeSpan.FromSeconds(10));
        var late = await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow()).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(late.Succeeded);

        // Storage answers again: the read completes and the next request uses the fresh row.
        azurite.Resume();
        await refresh.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task A_storage_outage_is_covered_by_cached_rows_for_the_bounded_time_only()
    {
        await using var azurite = await AzuriteInstance.StartAsync();
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(), azurite.ConnectionString);
        var (_, key) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
        await azurite.StopAsync();

        // Past the 30 s TTL but within TTL + MaxStale (30 min): the row last read still answers.
        app.Time.Advance(TimeSpan.FromMinutes(30));
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);

        app.Time.Advance(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<RelayKeyUnavailableException>(async () => await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow()));

        // Recovery. A killed Azurite may not have saved what was written just before it stopped (even the table),
        // which a real account would keep: put the table back and check with a new key.
        await azurite.StartAgainAsync();
        await (await app.Tables.GetTableAsync(TableNames.RelayKeys)).CreateIfNotExistsAsync();
        var (_, afterOutage) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(afterOutage, app.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task Concurrent_requests_share_one_storage_read_when_cold_and_ahead_of_expiry()
    {
        var reads = new StorageReads();
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(), storagePolicy: reads);
        var (created, key) = await app.Keys.CreateAsync(Spec);

        var before = reads.Count;
        var cold = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => app.Cache.GetAsync(created.Id, default).AsTask()));
        Assert.All(cold, row => Assert.Equal(created.Id, row!.Key.Id));
        Assert.Equal(before + 1, reads.Count);

        // In the refresh-ahead window: every request answered from memory at once, one read for all of them.
        app.Time.Advance(TimeSpan.FromSeconds(25));
        var held = reads.HoldNext();
        for (var i = 0; i < 20; i++)
            Assert.True(app.Cache.GetAsync(created.Id, default).IsCompletedSuccessfully);
        await held;
        Assert.Equal(before + 2, reads.Count);
        // Taken before the release: released first, the read could finish before it is looked up.
        var refresh = app.Cache.LoadUnderWay(created.Id)!;
        reads.Release();
        await refresh;
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
        Assert.Equal(before + 2, reads.Count);
    }

    [Fact]
    public async Task A_suspension_during_a_slow_read_is_not_undone_by_that_read()
    {
        var reads = new StorageReads();
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(), storagePolicy: reads);
        var (created, key) = await app.Keys.CreateAsync(Spec);
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);

        // A read ahead of expiry sees the key active; its answer is slow to arrive.
        app.Time.Advance(TimeSpan.FromSeconds(25));
        var held = reads.HoldNext();
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
        var refresh = app.Cache.LoadUnderWay(created.Id)!;
        await held;

        await app.Keys.SuspendAsync(created.Id);
        reads.Release();
        await refresh;

        Assert.Equal(RelayKeyFailure.Suspended, (await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Failure);
    }
}
