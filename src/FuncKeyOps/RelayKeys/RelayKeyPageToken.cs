using FuncKeyOps.Storage;

namespace FuncKeyOps.RelayKeys;

/// <summary>The relay-key list's <c>next</c> token: a <see cref="TablePageToken"/>.</summary>
internal static class RelayKeyPageToken
{
    public static string Encode(string continuation) => TablePageToken.Encode(continuation);

    /// <exception cref="RelayKeyValidationException">The token is not shaped like one a page returned.</exception>
    public static string Decode(string token) =>
        TablePageToken.TryDecode(token, out var continuation) ? continuation : throw Invalid();

    public static RelayKeyValidationException Invalid() => new(["continuation is not a token from an earlier page of this list."]);
}
