namespace FuncKeyOps.Anomalies.Actions;

/// <summary>
/// Reads the kinds of <see cref="Finding.Subject"/> an action can work on: <c>relay-key:{id}</c> and
/// <c>provider-key:{name}/{version}</c> (a provider key's name never holds '/', a vault version never does either).
/// </summary>
internal static class FindingSubject
{
    public const string RelayKeyKind = "relay-key:";
    public const string ProviderKeyKind = "provider-key:";

    public static string RelayKey(string id) => RelayKeyKind + id;

    public static string ProviderKey(string name, string version) => $"{ProviderKeyKind}{name}/{version}";

    public static bool TryRelayKey(string subject, out string id)
    {
        id = subject.StartsWith(RelayKeyKind, StringComparison.Ordinal) ? subject[RelayKeyKind.Length..] : "";
        return id.Length > 0;
    }

    /// <summary>The key's name, and its version when the subject names one.</summary>
    public static bool TryProviderKey(string subject, out string name, out string? version)
    {
        name = "";
        version = null;
        if (!subject.StartsWith(ProviderKeyKind, StringComparison.Ordinal))
            return false;
        var rest = subject[ProviderKeyKind.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        name = slash < 0 ? rest : rest[..slash];
        version = slash < 0 || slash == rest.Length - 1 ? null : rest[(slash + 1)..];
        return name.Length > 0;
    }
}
