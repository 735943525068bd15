using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Tests.ProviderKeys;

public class ProviderKeyStalenessTests
{
    [Fact]
    public void With_the_defaults_rotation_waits_the_secret_caches_35_minutes_plus_one_calls_retries()
    {
        // max(10 s + 30 min registry, 5 min + 30 min secrets) + 2 retries x (120 s timeout + 10 s Retry-After).
        Assert.Equal(TimeSpan.FromMinutes(35) + TimeSpan.FromSeconds(260), ProviderKeyStaleness.Bound(new(), new(), new()));
    }

    [Fact]
    public void The_bound_follows_the_settings_of_whichever_cache_keeps_its_copy_longer()
    {
        var registry = new ProviderKeyOptions { CacheTtl = TimeSpan.FromMinutes(1), MaxStale = TimeSpan.FromHours(2) };
        var secrets = new SecretCacheOptions { RefreshAhead = TimeSpan.FromMinutes(1), TimeToLive = TimeSpan.FromMinutes(2), MaxStale = TimeSpan.FromMinutes(10) };
        var relay = new RelayOptions { MaxRetries = 0 };
        Assert.Equal(TimeSpan.FromMinutes(121), ProviderKeyStaleness.Bound(registry, secrets, relay));
        Assert.Equal(TimeSpan.FromMinutes(12), ProviderKeyStaleness.Bound(new ProviderKeyOptions { MaxStale = TimeSpan.FromMinutes(5) }, secrets, relay));
    }
}
