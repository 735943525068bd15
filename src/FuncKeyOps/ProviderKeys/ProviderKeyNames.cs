namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// The names a relay key binds to: provider keys and pools, one namespace (a binding names either), so one rule. A name
/// is a table RowKey and a Key Vault secret name's default, hence the characters.
/// </summary>
public static class ProviderKeyNames
{
    public const int MaxLength = 127;
    public const string Rule = "The name must be 1-127 letters, digits or '-'.";

    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= MaxLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
