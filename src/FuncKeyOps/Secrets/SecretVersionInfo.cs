namespace FuncKeyOps.Secrets;

/// <summary>A secret version's metadata: never the value.</summary>
public sealed record SecretVersionInfo(
    string Name,
    string Version,
    bool Enabled,
    IReadOnlyDictionary<string, string> Tags,
    DateTimeOffset? CreatedOn,
    DateTimeOffset? ExpiresOn)
{
    /// <summary>When the version's properties (tags, enabled) last changed; null where the store does not say.</summary>
    public DateTimeOffset? UpdatedOn { get; init; }

    /// <summary>The rotation state carried in the <c>state</c> tag, if any.</summary>
    public SecretVersionState? State => SecretTags.ReadState(Tags);
}
