using FuncKeyOps.Logging;
using FuncKeyOps.Secrets;
using FuncKeyOps.Testing;
using FuncKeyOps.Testing.Vault;

namespace FuncKeyOps.Tests.Secrets;

public class KeyVaultSecretStoreTests
{
    [Fact]
    public async Task Secret_round_trips_through_the_real_SecretClient_over_https()
    {
        await using var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var name = TestNames.NewSecretName("openai-main");

        var first = await store.SetAsync(name, "fake-value-one", new Dictionary<string, string> { [SecretTags.State] = "active" });
        var second = await store.SetAsync(name, "fake-value-two", new Dictionary<string, string> { [SecretTags.State] = "pending" });

        Assert.Equal("fake-value-two", (await store.GetAsync(name)).Value);
        var old = await store.GetAsync(name, first.Version);
        Assert.Equal("fake-value-one", old.Value);
        Assert.Equal(SecretVersionState.Active, old.Info.State);
        Assert.DoesNotContain("fake-value-one", old.ToString());

        var versions = await store.ListVersionsAsync(name);
        Assert.Equal(new[] { first.Version, second.Version }.Order(), versions.Select(v => v.Version).Order());
        Assert.Equal(SecretVersionState.Pending, versions.Single(v => v.Version == second.Version).State);
    }

    [Fact]
    public async Task Update_merges_tags_and_disables_a_version()
    {
        await using var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var name = TestNames.NewSecretName("anthropic-main");
        var v1 = await store.SetAsync(name, "fake-anthropic-1", new Dictionary<string, string> { [SecretTags.ProviderKeyId] = "key_1" });
        var expires = new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);

        var updated = await store.UpdateAsync(name, v1.Version, new SecretVersionUpdate(
            Enabled: false, Tags: new Dictionary<string, string> { [SecretTags.State] = SecretVersionState.Revoked.ToTag() }, ExpiresOn: expires));

        Assert.False(updated.Enabled);
        Assert.Equal(SecretVersionState.Revoked, updated.State);
        Assert.Equal("key_1", updated.Tags[SecretTags.ProviderKeyId]);
        Assert.Equal(expires, updated.ExpiresOn);
        var listed = Assert.Single(await store.ListVersionsAsync(name));
        Assert.False(listed.Enabled);
        var disabled = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetAsync(name, v1.Version));
        Assert.Equal(403, disabled.Status);
    }

    [Fact]
    public async Task Missing_and_deleted_secrets_are_not_found()
    {
        await using var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var name = TestNames.NewSecretName("gone");

        await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetAsync(name));
        await store.SetAsync(name, "fake-short-lived");
        await store.DeleteAsync(name);
        await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetAsync(name));
    }

    [Fact]
    public async Task An_unreachable_vault_is_a_transient_error_without_the_value()
    {
        await using var vault = await TestVault.StartAsync();
        var store = new KeyVaultSecretStore(TestVaults.ProductClient(vault), new SecretRedactor());
        var name = TestNames.NewSecretName("down");
        await store.SetAsync(name, "fake-canary-down-value");
        await vault.StopAsync();

        var error = await Assert.ThrowsAsync<SecretStoreException>(() => store.GetAsync(name));
        Assert.True(error.IsTransient);
        Assert.DoesNotContain("fake-canary-down-value", error.ToString());
    }
}
