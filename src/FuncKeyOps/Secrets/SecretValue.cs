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
