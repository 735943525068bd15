using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace FuncKeyOps.RelayKeys;

/// <summary>The wire format <c>fko_&lt;keyId&gt;_&lt;secret&gt;</c>: a 12-character lowercase id, then 32 random bytes base64url.</summary>
public static class RelayKeyFormat
{
    public const string Prefix = "fko_";
    public const int IdLength = 12;
    public const int SecretBytes = 32;

    // Base64url of 32 bytes without padding.
    public const int SecretLength = 43;

    public const int KeyLength = 4 + IdLength + 1 + SecretLength;

    private const string IdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static readonly SearchValues<char> IdChars = SearchValues.Create(IdAlphabet);
    private static readonly SearchValues<char> SecretChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string NewId() => RandomNumberGenerator.GetString(IdAlphabet, IdLength);

    public static string NewSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    public static string Compose(string id, string secret) => Prefix + id + "_" + secret;

    /// <summary>Splits a presented key by position, not by '_', because the secret's alphabet contains '_'.</summary>
    public static bool TryParse(string? presented, [NotNullWhen(true)] out string? id, [NotNullWhen(true)] out string? secret)
    {
        id = null;
        secret = null;
        if (presented is null
            || presented.Length != KeyLength
            || !presented.StartsWith(Prefix, StringComparison.Ordinal)
            || presented[Prefix.Length + IdLength] != '_')
            return false;

        var idPart = presented.AsSpan(Prefix.Length, IdLength);
        var secretPart = presented.AsSpan(Prefix.Length + IdLength + 1);
        if (!IsId(idPart) || !IsSecret(secretPart))
            return false;
        id = idPart.ToString();
        secret = secretPart.ToString();
        return true;
    }

    public static bool IsId(ReadOnlySpan<char> id) =>
        id.Length == IdLength && !id.ContainsAnyExcept(IdChars);

    private static bool IsSecret(ReadOnlySpan<char> secret) => !secret.ContainsAnyExcept(SecretChars);
}
