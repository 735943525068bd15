using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Testing;
using FuncKeyOps.Tests.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace FuncKeyOps.Tests.ProviderKeys;

public class ProviderKeyRegistryTests
{
    private static ProviderKeyConfig Key(string url) => new() { Name = "openai-main", Provider = "openai", BaseUrl = new Uri(url), SecretName = "openai-main" };

    [Fact]
    public async Task An_expired_snapshot_is_served_while_a_background_read_replaces_it()
    {
        var prefix = TestNames.NewTablePrefix();
        var time = new FakeTimeProvider();
        var relay = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix), Options.Create(new ProviderKeyOptions()), time);
        var admin = new ProviderKeyRegistry(await TestTables.CreateAsync(prefix), Options.Create(new ProviderKeyOptions()), time);
        await admin.PutAsync(Key("https://one.example/"));
        Assert.Equal("https://one.example/", (await relay.FindForProviderAsync("openai"))!.BaseUrl.ToString());

        await admin.PutAsync(Key("https://two.example/"));
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("https://one.example/", (await relay.FindForProviderAsync("openai"))!.BaseUrl.ToString()); // fresh: no read

        time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal("https://one.example/", (await relay.FindForProviderAsync("openai"))!.BaseUrl.ToString()); // stale, refreshing
        await relay.LastBackgroundRefresh;
        Assert.Equal("https://two.example/", (await relay.FindForProviderAsync("openai"))!.BaseUrl.ToString());
        Assert.Null(await relay.FindForProviderAsync("gemini"));
    }
}
