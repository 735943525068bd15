using FuncKeyOps.Routing;

namespace FuncKeyOps.Relay;

/// <summary>The order in which one call tries the members of a route with several provider keys.</summary>
internal static class MemberOrder
{
    /// <summary>
    /// Ordered: as listed. Weighted: the first drawn by weight (<paramref name="draw"/> in [0, total weight)), then the
    /// others as listed, so failover is as predictable as in an ordered pool. No positive weight: as listed.
    /// </summary>
    /// <remarks>
    /// Each weight counts at most <see cref="Pools.PoolSpecValidator.MaxWeight"/>, as the admin API allows: a pool row
    /// written before that bound (or by hand) cannot overflow the sum and fail every call through it.
    /// </remarks>
    public static IReadOnlyList<RouteMember> For(ProviderRoute route, Func<int, int> draw)
    {
        var members = route.Members;
        if (route.Mode != PoolMode.Weighted || members.Count < 2)
            return members;
        var total = 0L;
        foreach (var member in members)
            total += Share(member);
        if (total == 0)
            return members;
        // Members beyond int's range of shares would take millions of rows: cap rather than overflow.
        var pick = (long)draw((int)Math.Min(total, int.MaxValue));
        var first = 0;
        for (; first < members.Count - 1; first++)
        {
            pick -= Share(members[first]);
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

    private static int Share(RouteMember member) => Math.Clamp(member.Weight, 0, Pools.PoolSpecValidator.MaxWeight);
}
