namespace FuncKeyOps.Providers;

/// <summary>
/// Asks an OpenAI-style chat completion stream for usage (<c>stream_options.include_usage: true</c>) when the
/// client did not, so the relay can count the tokens of every streamed call. Without it a chat stream carries
/// no usage at all. The body is spliced, not re-serialised: every other byte the client sent goes upstream
/// unchanged, including other <c>stream_options</c> members, and the cost is one copy.
/// </summary>
internal static class StreamUsageRewrite
{
    private static ReadOnlySpan<byte> AppendedMember => ",\"stream_options\":{\"include_usage\":true}"u8;
    private static ReadOnlySpan<byte> OptionsObject => "{\"include_usage\":true}"u8;
    private static ReadOnlySpan<byte> FirstMember => "\"include_usage\":true"u8;
    private static ReadOnlySpan<byte> LeadingMember => "\"include_usage\":true,"u8;
    private static ReadOnlySpan<byte> True => "true"u8;

    /// <summary>True when the request streams a chat completion without asking for usage.</summary>
    public static bool Applies(in RequestFields request) => request.IsObject && request.Stream && !request.IncludesUsage;

    public static byte[] Apply(ReadOnlySpan<byte> body, in RequestFields request)
    {
        if (!request.StreamOptions.Exists)
            return Splice(body, request.RootEnd, request.RootEnd, AppendedMember);
        if (!request.StreamOptionsIsObject)
            return Splice(body, request.StreamOptions.Start, request.StreamOptions.End, OptionsObject);
        if (request.IncludeUsage.Exists)
            return Splice(body, request.IncludeUsage.Start, request.IncludeUsage.End, True);

        var afterBrace = request.StreamOptions.Start + 1;
        return Splice(body, afterBrace, afterBrace, request.StreamOptionsIsEmpty ? FirstMember : LeadingMember);
    }

    /// <summary>body[..start] + insert + body[end..].</summary>
    private static byte[] Splice(ReadOnlySpan<byte> body, int start, int end, ReadOnlySpan<byte> insert)
    {
        var result = new byte[body.Length - (end - start) + insert.Length];
        body[..start].CopyTo(result);
        insert.CopyTo(result.AsSpan(start));
        body[end..].CopyTo(result.AsSpan(start + insert.Length));
        return result;
    }
}
