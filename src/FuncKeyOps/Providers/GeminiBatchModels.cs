using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>
/// The models a <c>:batchEmbedContents</c> body names, one per request (<c>{"requests":[{"model":"models/{id}",...}]}</c>).
/// Google refuses a batch whose requests name another model than the URL, but the model allow-list does not lean
/// on that: a request naming another model is judged by that model.
/// </summary>
internal static class GeminiBatchModels
{
    /// <summary>
    /// The first model a request names that is not <paramref name="pathModel"/>, as an allow-list names it; null
    /// when every named model is the path's, or the body cannot be read (Google refuses such a body itself).
    /// Every occurrence counts, repeated members included, as no parser's choice among them can be assumed.
    /// </summary>
    public static string? FirstOther(ReadOnlySpan<byte> body, string pathModel)
    {
        if (!JsonReading.TryStartObject(body, out var reader))
            return null;
        try
        {
            while (JsonReading.NextMember(ref reader))
            {
                if (!reader.ValueTextEquals("requests"u8))
                {
                    reader.Skip();
                    continue;
                }
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    if (OtherInRequest(ref reader, pathModel) is { } other)
                        return other;
                }
            }
        }
        catch (JsonException)
        {
        }
        return null;
    }

    private static string? OtherInRequest(ref Utf8JsonReader reader, string pathModel)
    {
        while (JsonReading.NextMember(ref reader))
        {
            if (!reader.ValueTextEquals("model"u8))
            {
                reader.Skip();
                continue;
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
                continue;
            }
            // "models/{id}" as the path's model is named; anything else (tunedModels/...) whole, as GeminiAdapter does.
            var named = reader.GetString()!;
            var id = named.StartsWith("models/", StringComparison.Ordinal) ? named["models/".Length..] : named;
            if (id != pathModel)
                return id;
        }
        return null;
    }
}
