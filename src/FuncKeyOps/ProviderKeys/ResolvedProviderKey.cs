namespace FuncKeyOps.ProviderKeys;

/// <summary>The provider key value chosen for one request, with what the audit row records about it.</summary>
public sealed record ResolvedProviderKey(ProviderKeyConfig Config, string Version, string Value)
{
    public override string ToString() => $"{Config.Name}/{Version} (value hidden)";
}
