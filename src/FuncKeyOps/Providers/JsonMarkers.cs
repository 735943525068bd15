namespace FuncKeyOps.Providers;

/// <summary>
/// Byte-level pre-checks that let a usage reader skip parsing the events that cannot carry usage, which is
/// nearly all of them: a stream of content deltas is passed through with one vectorised search per event.
/// </summary>
internal static class JsonMarkers
{
    private static ReadOnlySpan<byte> Whitespace => " \t\r\n"u8;

    /// <summary>
    /// True when <paramref name="json"/> has a member named <paramref name="quotedName"/> (with its quotes)
    /// whose value is an object, at any depth. <c>"usage":null</c>, which OpenAI puts on every chunk once
    /// usage is requested, does not count. Quotes inside JSON strings are escaped, so a match is a member name.
    /// </summary>
    public static bool HasObjectMember(ReadOnlySpan<byte> json, ReadOnlySpan<byte> quotedName)
    {
        while (true)
        {
            var at = json.IndexOf(quotedName);
            if (at < 0)
                return false;
            json = json[(at + quotedName.Length)..];
            var rest = json.TrimStart(Whitespace);
            if (rest.IsEmpty || rest[0] != (byte)':')
                continue;
            rest = rest[1..].TrimStart(Whitespace);
            if (!rest.IsEmpty && rest[0] == (byte)'{')
                return true;
        }
    }

    /// <summary>True when the payload can be a JSON object: SSE comments, <c>[DONE]</c> and empty data cannot.</summary>
    public static bool StartsLikeObject(ReadOnlySpan<byte> json)
    {
        var rest = json.TrimStart(Whitespace);
        return !rest.IsEmpty && rest[0] == (byte)'{';
    }
}
