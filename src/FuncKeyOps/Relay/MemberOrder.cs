using FuncKeyOps.Routing;

namespace FuncKeyOps.Relay;

/// <summary>The order in which one call tries the members of a route with several provider keys.</summary>
internal static class MemberOrder
{
    /// <summary>
    /// Ordered: as listed. Weighted: the first drawn by weight (<paramref name="draw"/> in [0, total weight)), then the
    /// others as listed, so failover is as predictable as in an ordered pool. No positive weight: as listed.
    /// </summary>
    public static IReadOnlyList<RouteMember> For(ProviderRoute route, Func<int, int> draw)
    {
        var members = route.Members;
        if (route.Mode != PoolMode.Weighted || members.Count < 2)
            return members;
        var total = 0;
        foreach (var member in members)
            total += Math.Max(member.Weight, 0);
        if (total == 0)
            return members;
        var pick = draw(total);
        var first = 0;
        for (; first < members.Count - 1; first++)
        {
            pick -= Math.Max(members[first].Weight, 0);
            if (pick < 0)
                break;
        }
        if (first == 0)
            return members;
        var ordered = new List<RouteMember>(members.Count) { members[first] };
        for (var i = 0; i < members.Count; i++)
        {
            if (i != first)
                ordered.Add(members[i]);
        }
        return ordered;
    }
}
