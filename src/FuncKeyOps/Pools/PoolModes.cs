using FuncKeyOps.Routing;

namespace FuncKeyOps.Pools;

/// <summary>The names of <see cref="PoolMode"/> in the admin API and the table: one spelling for both.</summary>
internal static class PoolModes
{
    public const string Weighted = "weighted";
    public const string Ordered = "ordered";

    public static string Name(PoolMode mode) => mode == PoolMode.Ordered ? Ordered : Weighted;

    public static PoolMode? Parse(string? name) => name switch
    {
        Weighted => PoolMode.Weighted,
        Ordered => PoolMode.Ordered,
        _ => null,
    };
}
