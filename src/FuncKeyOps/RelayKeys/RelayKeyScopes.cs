namespace FuncKeyOps.RelayKeys;

/// <summary>What a relay key may do besides relaying (<see cref="RelayKey.Scopes"/>).</summary>
public static class RelayKeyScopes
{
    /// <summary>Store, read and remove its own tenant's provider keys (BYOK) through <c>/api/tenants/{tenant}/provider-keys</c>.</summary>
    public const string Byok = "byok";

    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal) { Byok };
}
