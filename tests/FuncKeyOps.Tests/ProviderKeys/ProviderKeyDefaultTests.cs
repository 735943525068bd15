using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;

namespace FuncKeyOps.Tests.ProviderKeys;

/// <summary>Exactly one platform default per provider, kept by <see cref="ProviderKeyRegistry.RegisterAsync"/> against Azurite.</summary>
public class ProviderKeyDefaultTests
{
    private static ProviderKeyConfig Key(string name, string provider = "openai", string? tenant = null) =>
        new() { Name = name, Provider = provider, BaseUrl = new Uri("https://api.example/"), SecretName = name, Tenant = tenant };

    private static async Task<ProviderKeyRegistry> RegistryAsync() =>
        new(await TestTables.CreateAsync(TestNames.NewTablePrefix()), Options.Create(new ProviderKeyOptions()), TimeProvider.System);

    private static async Task<string[]> FlaggedAsync(ProviderKeyRegistry registry, string provider) =>
        [.. (await registry.ListAsync()).Where(c => c.Provider == provider && c.IsDefault).Select(c => c.Name).Order()];

    [Fact]
    public async Task The_first_key_of_a_provider_is_its_default_and_a_later_one_only_when_asked()
    {
        var registry = await RegistryAsync();
        Assert.True((await registry.RegisterAsync(Key("b-openai"))).Stored.IsDefault);
        Assert.False((await registry.RegisterAsync(Key("a-openai"))).Stored.IsDefault); // first by name, but not asked
        Assert.True((await registry.RegisterAsync(Key("claude", "anthropic"))).Stored.IsDefault);
        Assert.Equal(["b-openai"], await FlaggedAsync(registry, "openai"));

        Assert.True((await registry.RegisterAsync(Key("a-openai"), makeDefault: true)).Stored.IsDefault);
        Assert.Equal(["a-openai"], await FlaggedAsync(registry, "openai"));
        Assert.Equal("a-openai", (await registry.FindDefaultAsync("openai"))!.Name);

        // Re-registering without "default" keeps each flag as stored: the default is never dropped by omission.
        Assert.True((await registry.RegisterAsync(Key("a-openai"))).Stored.IsDefault);
        Assert.False((await registry.RegisterAsync(Key("b-openai"))).Stored.IsDefault);
        Assert.Equal(["a-openai"], await FlaggedAsync(registry, "openai"));
        Assert.Equal(["claude"], await FlaggedAsync(registry, "anthropic"));
    }

    [Fact]
    public async Task Rows_written_before_defaults_route_first_by_name_and_the_first_write_settles_the_flag_there()
    {
        var registry = await RegistryAsync();
        foreach (var name in new[] { "c-openai", "a-openai", "b-openai" })
            await registry.PutAsync(Key(name)); // a raw row, as written before the flag existed
        Assert.Empty(await FlaggedAsync(registry, "openai"));
        Assert.Equal("a-openai", (await registry.FindDefaultAsync("openai"))!.Name);

        await registry.RegisterAsync(Key("c-openai")); // any registration write of the provider
        Assert.Equal(["a-openai"], await FlaggedAsync(registry, "openai")); // the key that served: no traffic moves
    }

    [Fact]
    public async Task Concurrent_moves_of_the_default_leave_exactly_one()
    {
        var registry = await RegistryAsync();
        string[] names = ["k1", "k2", "k3", "k4"];
        foreach (var name in names)
            await registry.RegisterAsync(Key(name));
        for (var round = 0; round < 5; round++)
        {
            // Each reads the partition and writes two rows with their ETags: without the transaction and its retry,
            // two could each clear the old default and set their own.
            await Task.WhenAll(names.Select(n => Task.Run(() => registry.RegisterAsync(Key(n), makeDefault: true))));
            Assert.Single(await FlaggedAsync(registry, "openai"));
        }
    }

    [Fact]
    public async Task A_tenants_own_key_is_never_a_default()
    {
        var registry = await RegistryAsync();
        Assert.False((await registry.RegisterAsync(Key("tenant-a-openai", tenant: "a"))).Stored.IsDefault);
        Assert.True((await registry.RegisterAsync(Key("platform-openai"))).Stored.IsDefault);
        await Assert.ThrowsAsync<ArgumentException>(() => registry.RegisterAsync(Key("tenant-a-openai", tenant: "a"), makeDefault: true));
        Assert.Equal(["platform-openai"], await FlaggedAsync(registry, "openai"));
    }

    [Fact]
    public async Task A_key_moved_to_another_provider_hands_its_old_providers_default_on()
    {
        var registry = await RegistryAsync();
        await registry.RegisterAsync(Key("a-key"));
        await registry.RegisterAsync(Key("b-key"));
        await registry.RegisterAsync(Key("a-key", "anthropic"));
        Assert.Equal(["b-key"], await FlaggedAsync(registry, "openai"));
        Assert.Equal(["a-key"], await FlaggedAsync(registry, "anthropic"));
    }
}
