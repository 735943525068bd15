using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>
/// What the relay needs from a JSON request body, read in one pass over its top level (nested values are
/// skipped, not materialised): <c>model</c>, <c>stream</c>, and where <c>stream_options</c> sits so it can be
/// rewritten in place. When a member repeats, the last one wins, as in most JSON parsers; but a repeated
/// <c>model</c> leaves the model unread: parsers differ on which one wins (and some match names in any letter
/// case), so <c>{"model":"allowed","model":"forbidden"}</c> names no model a model allow-list could check.
/// </summary>
internal readonly record struct RequestFields
{
    /// <summary>The body is one complete JSON object; nothing else below is meaningful when false.</summary>
    public bool IsObject { get; init; }

    /// <summary>The one <c>model</c> member's string value; null when absent, not a string, or repeated.</summary>
    public string? Model { get; init; }

    public bool Stream { get; init; }

    /// <summary>The last <c>stream_options</c> has <c>include_usage: true</c>.</summary>
    public bool IncludesUsage { get; init; }

    /// <summary>Offset of the root object's closing brace.</summary>
    public int RootEnd { get; init; }

    /// <summary>Byte range of the last <c>stream_options</c> value; Start is -1 when absent.</summary>
    public Range32 StreamOptions { get; init; }

    public bool StreamOptionsIsObject { get; init; }

    public bool StreamOptionsIsEmpty { get; init; }

    /// <summary>Byte range of the last <c>include_usage</c> value inside it; Start is -1 when absent.</summary>
    public Range32 IncludeUsage { get; init; }

    private static readonly RequestFields NotAnObject = new() { StreamOptions = Range32.None, IncludeUsage = Range32.None };

    public static RequestFields Read(ReadOnlySpan<byte> body)
    {
        if (!JsonMarkers.StartsLikeObject(body) || !JsonReading.TryStartObject(body, out var reader))
            return NotAnObject;
        try
        {
            return ReadObject(ref reader);
        }
        catch (JsonException)
        {
            return NotAnObject;
        }
    }

    private static RequestFields ReadObject(ref Utf8JsonReader reader)
    {
        string? model = null;
        var models = 0;
        var stream = false;
        var includesUsage = false;
        var streamOptions = Range32.None;
        var optionsIsObject = false;
        var optionsIsEmpty = false;
        var includeUsage = Range32.None;

        while (JsonReading.NextMember(ref reader))
        {
            if (IsModelName(ref reader))
            {
                models++;
                reader.Read();
                model = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                stream = reader.TokenType == JsonTokenType.True;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("stream_options"u8))
            {
                reader.Read();
                var start = (int)reader.TokenStartIndex;
                optionsIsObject = reader.TokenType == JsonTokenType.StartObject;
                optionsIsEmpty = true;
                includesUsage = false;
                includeUsage = Range32.None;
                if (optionsIsObject)
                {
                    while (JsonReading.NextMember(ref reader))
                    {
                        optionsIsEmpty = false;
                        if (reader.ValueTextEquals("include_usage"u8))
                        {
                            reader.Read();
                            includesUsage = reader.TokenType == JsonTokenType.True;
                            var valueStart = (int)reader.TokenStartIndex;
                            reader.Skip();
                            includeUsage = new Range32(valueStart, (int)reader.BytesConsumed);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
                streamOptions = new Range32(start, (int)reader.BytesConsumed);
            }
            else
            {
                reader.Skip();
            }
        }

        var rootEnd = (int)reader.TokenStartIndex;
        // One JSON value and nothing after it; the reader throws on anything but whitespace.
        if (reader.Read())
            return NotAnObject;

        return new RequestFields
        {
            IsObject = true,
            Model = models == 1 ? model : null,
            Stream = stream,
            IncludesUsage = includesUsage,
            RootEnd = rootEnd,
            StreamOptions = streamOptions,
            StreamOptionsIsObject = optionsIsObject,
            StreamOptionsIsEmpty = optionsIsEmpty,
            IncludeUsage = includeUsage,
        };
    }

    // "model" in any letter case: a parser that matches member names case-insensitively would take "Model" as the model.
    private static bool IsModelName(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
            return System.Text.Ascii.EqualsIgnoreCase(reader.ValueSpan, "model"u8);
        try
        {
            return string.Equals(reader.GetString(), "model", StringComparison.OrdinalIgnoreCase);
        }
        catch (InvalidOperationException)
        {
            return true; // a name that does not decode: count it, so the model stays unread rather than guessed
        }
    }
}

/// <summary>A byte range in a body; <see cref="None"/> when the thing it locates is absent.</summary>
internal readonly record struct Range32(int Start, int End)
{
    public static readonly Range32 None = new(-1, -1);

    public bool Exists => Start >= 0;
}
