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

    [Theory]
    [InlineData("old", "new")]
    [InlineData("new", "old")]
    public void The_other_version_of_a_canary_is_the_weighted_one_that_did_not_fail(string failed, string other)
    {
        var weights = new Dictionary<string, int> { ["old"] = 95, ["new"] = 5 };
        Assert.Equal(other, ProviderKeyResolver.OtherWeighted(weights, failed));
    }

    [Fact]
    public void A_version_alone_carrying_weight_has_no_other()
    {
        Assert.Null(ProviderKeyResolver.OtherWeighted(new Dictionary<string, int> { ["a"] = 100, ["staged"] = 0 }, "a"));
        Assert.Null(ProviderKeyResolver.OtherWeighted(new Dictionary<string, int>(), "latest"));
    }
}
