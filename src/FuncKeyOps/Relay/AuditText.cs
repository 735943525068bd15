using System.Collections.Frozen;
using FuncKeyOps.Providers;

namespace FuncKeyOps.Relay;

/// <summary>
/// What of the request's own text goes into its audit row. Rows are kept for months and read through the admin API,
/// and a client can put anything anywhere, a relay key pasted in the wrong place included; so the row is made safe
/// before it reaches any sink: a provider name only when it is one, a method only when it is a standard one (the relay
/// masks path, model and User-Agent as log lines are: key shapes and every vault value this instance has read).
/// </summary>
internal static class AuditText
{
    /// <summary>The provider column of a route naming no provider: what was sent there may be a key.</summary>
    public const string UnknownProvider = "unknown";

    /// <summary>The method column of a non-standard method: any token is a valid method, a relay key too.</summary>
    public const string OtherMethod = "OTHER";

    private static readonly FrozenSet<string> Methods =
        new[] { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT" }.ToFrozenSet(StringComparer.Ordinal);

    public static string Provider(ProviderCatalog catalog, string provider) =>
        catalog.TryGet(provider, out var adapter) ? adapter.Name : UnknownProvider;

    public static string Method(string method) => Methods.Contains(method) ? method : OtherMethod;
}
