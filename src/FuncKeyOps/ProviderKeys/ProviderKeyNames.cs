namespace FuncKeyOps.ProviderKeys;

/// <summary>
/// The names a relay key binds to: provider keys and pools, one namespace (a binding names either), so one rule.
/// </summary>
public static class ProviderKeyNames
{
    public const string Rule = "The name must be 1-127 letters, digits or '-'.";

    public static bool IsValid(string name) => name.Length is > 0 and <= 127 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
