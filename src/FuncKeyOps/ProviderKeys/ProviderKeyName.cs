namespace FuncKeyOps.ProviderKeys;

/// <summary>The shape of a provider key's (or pool's) name: it is a table RowKey and a Key Vault secret name's default.</summary>
public static class ProviderKeyName
{
    public const int MaxLength = 127;

    public static bool IsWellFormed(string? name) =>
        name is { Length: > 0 and <= MaxLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
