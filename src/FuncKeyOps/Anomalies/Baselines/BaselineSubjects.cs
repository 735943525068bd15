using FuncKeyOps.Anomalies.Rollups;

namespace FuncKeyOps.Anomalies.Baselines;

/// <summary>The subjects baselines are kept for, named as findings name them (<see cref="Finding.Subject"/>).</summary>
internal static class BaselineSubjects
{
    public const string RelayKeyPrefix = "relay-key:";
    public const string ProviderKeyPrefix = "provider-key:";

    public static string RelayKey(string id) => RelayKeyPrefix + id;

    public static string ProviderKey(string name) => ProviderKeyPrefix + name;

    /// <summary>
    /// The baseline subject of a finding's subject: a provider key's findings name its version
    /// (<c>provider-key:{name}/{version}</c>), its baseline is the key's whatever the version.
    /// </summary>
    public static string Of(string findingSubject)
    {
        ArgumentNullException.ThrowIfNull(findingSubject);
        if (findingSubject.StartsWith(ProviderKeyPrefix, StringComparison.Ordinal) && findingSubject.IndexOf('/', ProviderKeyPrefix.Length) is var slash and > 0)
            return findingSubject[..slash];
        return findingSubject;
    }

    /// <summary>
    /// The subject a rollup cell counts towards: a relay key's cells are summed over the provider keys it used, a
    /// provider key's over its versions. Null for the cells baselines do not read, and for rows naming neither.
    /// </summary>
    public static string? Of(RollupCell cell) => cell switch
    {
        { Dimension: RollupDimension.RelayKey, Value: { Length: > 0 } id } => RelayKey(id),
        { Dimension: RollupDimension.Version, ProviderKey: { Length: > 0 } name } => ProviderKey(name),
        _ => null,
    };

    /// <summary>The rollup row-key ranges holding those cells.</summary>
    public static IReadOnlyCollection<(string From, string To)> Ranges { get; } =
        [RollupKeys.Range(RollupDimension.RelayKey, null), RollupKeys.Range(RollupDimension.Version, null)];
}
