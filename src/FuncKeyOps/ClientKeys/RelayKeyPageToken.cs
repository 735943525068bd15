using System.Buffers.Text;
using System.Text;

namespace FuncKeyOps.ClientKeys;

/// <summary>
/// The relay-key list's <c>next</c> token: Table Storage's continuation (next partition and row key, each in
/// the service's own opaque encoding), base64url so it travels in a query string as is. A forged token cannot
/// widen the list: the query's partition filter still applies on the service.
/// </summary>
internal static class RelayKeyPageToken
{
    private const int MaxPartLength = 1024;

    public static string Encode(string continuation) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(continuation));

    /// <exception cref="RelayKeyValidationException">The token is not shaped like one a page returned.</exception>
    public static string Decode(string token)
    {
        string? continuation = null;
        try
        {
            continuation = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            // Not base64url, or not UTF-8 inside: refused below like any other malformed token.
        }
        var parts = continuation?.Split(' ');
        if (parts is not [var partition, var row] || !IsKeyPart(partition) || !IsKeyPart(row))
            throw Invalid();
        return continuation!;
    }

    public static RelayKeyValidationException Invalid() => new(["continuation is not a token from an earlier page of this list."]);

    // What the service and Azurite put in their continuation headers: base64 text, with '!' as a separator.
    private static bool IsKeyPart(string part) =>
        part.Length is > 0 and <= MaxPartLength
        && !part.AsSpan().ContainsAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!-_");
}
