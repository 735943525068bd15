namespace FuncKeyOps.Testing.Vault;

/// <summary>Key Vault's object-name rule: 1 to 127 characters of ASCII letters, digits and dashes.</summary>
internal static class SecretName
{
    public const int MaxLength = 127;

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public static void Validate(string? name)
    {
        if (!IsValid(name))
        {
            throw VaultException.BadParameter($"The request URI contains an invalid name: {name}");
        }
    }
}
