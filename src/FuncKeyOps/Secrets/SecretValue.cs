namespace FuncKeyOps.Secrets;

/// <summary>One version of a secret with its value. <see cref="ToString"/> never shows the value.</summary>
public sealed class SecretValue
{
    public SecretValue(SecretVersionInfo info, string value)
    {
        Info = info;
        Value = value;
    }

    public SecretVersionInfo Info { get; }
    public string Value { get; }
    public string Name => Info.Name;
    public string Version => Info.Version;

    public override string ToString() => $"{Info.Name}/{Info.Version} (value hidden)";
}

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

/// <summary>A change to a version's properties; null members are left as they are. Tags are merged.</summary>
public sealed record SecretVersionUpdate(
    bool? Enabled = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    DateTimeOffset? ExpiresOn = null);
