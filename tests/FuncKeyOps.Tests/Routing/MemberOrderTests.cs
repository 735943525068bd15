using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.Routing;

namespace FuncKeyOps.Tests.Routing;

/// <summary>The order one call tries a route's members in: the draw picks the first, the list gives the rest.</summary>
public class MemberOrderTests
{
    private static readonly ProviderRoute Pool = Route(PoolMode.Weighted, ("a", 1), ("b", 0), ("c", 3));

    [Theory]
    [InlineData(0, "a,b,c")] // [0, 1) is a's share
    [InlineData(1, "c,a,b")] // [1, 4) is c's; b (weight 0) is never drawn first, only a failover
    [InlineData(3, "c,a,b")]
    public void A_weighted_route_draws_its_first_member_by_weight_and_keeps_the_listed_order_for_the_rest(int draw, string expected)
    {
        var drawnFrom = -1;
        var order = MemberOrder.For(Pool, total =>
        {
            drawnFrom = total;
            return draw;
        });

        Assert.Equal(4, drawnFrom);
        Assert.Equal(expected, string.Join(",", order.Select(m => m.Key.Name)));
    }

    [Fact]
    public void Weights_past_the_bound_from_a_row_written_before_it_cannot_overflow_the_draw()
    {
        // Summed as int these wrapped negative and Random.Next threw: every call through the pool failed.
        var route = Route(PoolMode.Weighted, ("a", int.MaxValue), ("b", int.MaxValue), ("c", 0));
        var firsts = new HashSet<string>();
        for (var i = 0; i < 100; i++)
        {
            var order = MemberOrder.For(route, Random.Shared.Next);
            Assert.Equal(["a", "b", "c"], order.Select(m => m.Key.Name).Order());
            firsts.Add(order[0].Key.Name);
        }
        // Counted at the bound each, a and b share the first place evenly (odds of 100 draws all alike: 2^-99); c never has it.
        Assert.Equal(["a", "b"], firsts.Order());
    }

    [Fact]
    public void An_ordered_route_is_always_its_listed_order()
    {
        var order = MemberOrder.For(Pool with { Mode = PoolMode.Ordered }, _ => throw new InvalidOperationException("an ordered route draws nothing"));

        Assert.Equal("a,b,c", string.Join(",", order.Select(m => m.Key.Name)));
    }

    private static ProviderRoute Route(PoolMode mode, params (string Name, int Weight)[] members) => new()
    {
        Pool = "p",
        Mode = mode,
        Members = members.Select(m => new RouteMember(
            new ProviderKeyConfig { Name = m.Name, Provider = "azure-openai", BaseUrl = new Uri($"https://{m.Name}.example/"), SecretName = m.Name },
            m.Weight, new Dictionary<string, string>())).ToList(),
    };
}
