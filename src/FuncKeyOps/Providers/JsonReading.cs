using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>Small <see cref="Utf8JsonReader"/> steps shared by the request scanner and the usage readers.</summary>
internal static class JsonReading
{
    /// <summary>Deep enough for any tool schema a client sends; the reader allocates nothing per level.</summary>
    public static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };

    /// <summary>A reader positioned on the root <c>{</c>, or false for anything else (arrays, scalars, garbage).</summary>
    public static bool TryStartObject(ReadOnlySpan<byte> json, out Utf8JsonReader reader)
    {
        reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(Options));
        try
        {
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Steps to the next member of the object the reader is in: true on its name, false on the object's end.
    /// After a true, read the value (<c>reader.Read()</c>) or skip it (<c>reader.Skip()</c>) before calling again.
    /// </summary>
    public static bool NextMember(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType == JsonTokenType.PropertyName;

    /// <summary>Reads a member's value as a token count; null for null, fractions, strings or containers.</summary>
    public static long? ReadCount(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value >= 0)
            return value;
        reader.Skip();
        return null;
    }
}
