using System.Buffers.Text;
using System.Text;

namespace FuncKeyOps.Storage;

/// <summary>
/// Table Storage's continuation (next partition and row key, each in the service's own opaque encoding) as one
/// base64url token, so it travels in a query string as is. A forged token cannot widen a list: the query's own
/// filter still applies on the service.
/// </summary>
public static class TablePageToken
{
    private const int MaxPartLength = 1024;

    public static string Encode(string continuation) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(continuation));

    /// <summary>False when the token is not shaped like one <see cref="Encode"/> made from a service continuation.</summary>
    public static bool TryDecode(string token, out string continuation)
    {
        continuation = "";
        string? text = null;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Base64Url.DecodeFromChars(token));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            // Not base64url, or not UTF-8 inside: refused below like any other malformed token.
        }
        var parts = text?.Split(' ');
        if (parts is not [var partition, var row] || !IsKeyPart(partition) || !IsKeyPart(row))
            return false;
        continuation = text!;
        return true;
    }

    // What the service and Azurite put in their continuation headers: base64 text, with '!' as a separator.
    private static bool IsKeyPart(string part) =>
        part.Length is > 0 and <= MaxPartLength
        && !part.AsSpan().ContainsAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=!-_");
}
