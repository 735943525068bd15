using System.Security.Cryptography;
using Azure.Data.Tables;
using FuncKeyOps.RelayKeys;
using FuncKeyOps.Secrets;
using FuncKeyOps.Storage;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.RelayKeys;

public class RelayKeyPepperTests
{
    private static readonly RelayKeySpec Spec = new() { Tenant = "contoso", Name = "pepper-test" };

    [Fact]
    public async Task The_pepper_is_created_once_on_first_use_as_32_random_bytes()
    {
        await using var vault = await TestVault.StartAsync();
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix());
        await Assert.ThrowsAsync<SecretNotFoundException>(() => app.Secrets.GetAsync(app.PepperSecretName));

        var created = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.Keys.CreateAsync(Spec)));
        await app.Keys.CreateAsync(Spec);

        Assert.Single(await app.Secrets.ListVersionsAsync(app.PepperSecretName));
        Assert.Equal(32, Convert.FromBase64String((await app.Secrets.GetAsync(app.PepperSecretName)).Value).Length);
        foreach (var (_, key) in created)
            Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task The_pepper_secret_name_comes_from_configuration()
    {
        await using var vault = await TestVault.StartAsync();
        var name = TestNames.NewSecretName("pepper");
        await using var app = await RelayKeysInstance.StartAsync(vault, TestNames.NewTablePrefix(),
            settings: new Dictionary<string, string?> { ["RelayKeys:PepperSecretName"] = name });

        var (_, key) = await app.Keys.CreateAsync(Spec);

        Assert.Single(await app.Secrets.ListVersionsAsync(name));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => app.Secrets.GetAsync("relay-key-pepper"));
        Assert.True((await app.Authenticator.AuthenticateAsync(key, app.Time.GetUtcNow())).Succeeded);
    }

    [Fact]
    public async Task Two_instances_racing_to_create_the_first_pepper_each_verify_the_others_keys()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        // Both instances reach the vault write before either makes it: the race at its worst, every run.
        var bothAboutToCreate = new Rendezvous(2);
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix, secretStore: s => new RendezvousBeforeSet(s, bothAboutToCreate));
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix, secretStore: s => new RendezvousBeforeSet(s, bothAboutToCreate));

        var created = await Task.WhenAll(a.Keys.CreateAsync(Spec), b.Keys.CreateAsync(Spec));

        Assert.Equal(2, (await a.Secrets.ListVersionsAsync(a.PepperSecretName)).Count);
        foreach (var instance in new[] { a, b })
        {
            foreach (var (_, key) in created)
                Assert.True((await instance.Authenticator.AuthenticateAsync(key, instance.Time.GetUtcNow())).Succeeded);
        }
    }

    [Fact]
    public async Task After_a_pepper_rotation_new_keys_use_the_new_version_and_old_keys_still_authenticate()
    {
        await using var vault = await TestVault.StartAsync();
        var prefix = TestNames.NewTablePrefix();
        await using var a = await RelayKeysInstance.StartAsync(vault, prefix);
        var (_, before) = await a.Keys.CreateAsync(Spec);

        var rotated = await a.Secrets.SetAsync(a.PepperSecretName, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        // A fresh instance reads the new latest version.
        await using var b = await RelayKeysInstance.StartAsync(vault, prefix);
        var (after, afterKey) = await b.Keys.CreateAsync(Spec);

        var table = await a.Tables.GetTableAsync(TableNames.RelayKeys);
        var row = (await table.GetEntityAsync<TableEntity>(TableKeys.RelayKeyPartition, after.Id)).Value;
        Assert.Equal(rotated.Version, row.GetString("PepperVersion"));
        foreach (var key in new[] { before, afterKey })
            Assert.True((await a.Authenticator.AuthenticateAsync(key, a.Time.GetUtcNow())).Succeeded);
    }

    /// <summary>Holds every party until all have arrived; gives up (failing the test) rather than hang.</summary>
    private sealed class Rendezvous(int parties)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _arrived;

        public Task ArriveAsync()
        {
            if (Interlocked.Increment(ref _arrived) == parties)
                _all.TrySetResult();
            return _all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private sealed class RendezvousBeforeSet(ISecretStore inner, Rendezvous rendezvous) : ISecretStore
    {
        public Task<SecretValue> GetAsync(string name, string? version = null, CancellationToken cancellationToken = default) =>
            inner.GetAsync(name, version, cancellationToken);

        public async Task<SecretVersionInfo> SetAsync(string name, string value, IReadOnlyDictionary<string, string>? tags = null, CancellationToken cancellationToken = default)
        {
            await rendezvous.ArriveAsync();
            return await inner.SetAsync(name, value, tags, cancellationToken);
        }

        public Task<IReadOnlyList<SecretVersionInfo>> ListVersionsAsync(string name, CancellationToken cancellationToken = default) =>
            inner.ListVersionsAsync(name, cancellationToken);

        public Task<SecretVersionInfo> UpdateAsync(string name, string version, SecretVersionUpdate update, CancellationToken cancellationToken = default) =>
            inner.UpdateAsync(name, version, update, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => inner.DeleteAsync(name, cancellationToken);
    }
}
