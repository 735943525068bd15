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
    /// <summary>The rotation state carried in the <c>state</c> tag, if any.</summary>
    public SecretVersionState? State => SecretTags.ReadState(Tags);
}
