using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Tests.ProviderKeys;

public class VersionPickTests
{
    [Fact]
    public void No_weights_pick_no_version()
    {
        Assert.Null(ProviderKeyResolver.PickVersion(new Dictionary<string, int>(), 42));
    }

    [Fact]
    public void Rolls_split_traffic_by_weight()
    {
        var weights = new Dictionary<string, int> { ["old"] = 95, ["new"] = 5 };
        var picks = Enumerable.Range(0, 100).Select(roll => ProviderKeyResolver.PickVersion(weights, roll)).ToList();
        Assert.Equal(5, picks.Count(p => p == "new"));
        Assert.Equal(95, picks.Count(p => p == "old"));
    }

    [Fact]
    public void Zero_weight_versions_never_get_traffic()
    {
        var weights = new Dictionary<string, int> { ["a"] = 0, ["b"] = 100 };
        Assert.All(Enumerable.Range(0, 100), roll => Assert.Equal("b", ProviderKeyResolver.PickVersion(weights, roll)));
    }
}
