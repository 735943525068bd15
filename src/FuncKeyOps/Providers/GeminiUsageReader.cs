using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>
/// Usage in the Gemini format: <c>usageMetadata</c> on a response. In a stream every chunk may carry it with
/// the counts so far, so the last one seen is the call's. Input is <c>promptTokenCount</c> plus
/// <c>toolUsePromptTokenCount</c>; output is <c>candidatesTokenCount</c> plus <c>thoughtsTokenCount</c>, which
/// thinking models report beside it and bill as output. <c>cachedContentTokenCount</c> is inside the prompt count.
/// </summary>
/// <remarks>
/// Without <c>alt=sse</c>, <c>:streamGenerateContent</c> answers with one JSON array of chunks, so a JSON body
/// may be an array; its last chunk with usage wins, as in a stream.
/// </remarks>
internal sealed class GeminiUsageReader : IUsageReader
{
    private static ReadOnlySpan<byte> UsageMarker => "\"usageMetadata\""u8;

    public TokenUsage Usage { get; private set; }

    public bool OnSseEvent(ReadOnlySpan<byte> rawEvent)
    {
        using var sse = SseEvent.Parse(rawEvent);
        Read(sse.Data);
        return true;
    }

    public void OnJsonBody(ReadOnlySpan<byte> body) => Read(body);

    private void Read(ReadOnlySpan<byte> json)
    {
        if (!JsonMarkers.HasObjectMember(json, UsageMarker))
            return;
        var reader = new Utf8JsonReader(json, isFinalBlock: true, new JsonReaderState(JsonReading.Options));
        try
        {
            if (!reader.Read())
                return;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                ReadChunk(ref reader);
                return;
            }
            if (reader.TokenType != JsonTokenType.StartArray)
                return;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (reader.TokenType == JsonTokenType.StartObject)
                    ReadChunk(ref reader);
                else
                    reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
    }

    private void ReadChunk(ref Utf8JsonReader reader)
    {
        while (JsonReading.NextMember(ref reader))
        {
            if (!reader.ValueTextEquals("usageMetadata"u8))
            {
                reader.Skip();
                continue;
            }
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            long? prompt = null, toolUse = null, candidates = null, thoughts = null;
            while (JsonReading.NextMember(ref reader))
            {
                if (reader.ValueTextEquals("promptTokenCount"u8))
                    prompt = JsonReading.ReadCount(ref reader);
                else if (reader.ValueTextEquals("toolUsePromptTokenCount"u8))
                    toolUse = JsonReading.ReadCount(ref reader);
                else if (reader.ValueTextEquals("candidatesTokenCount"u8))
                    candidates = JsonReading.ReadCount(ref reader);
                else if (reader.ValueTextEquals("thoughtsTokenCount"u8))
                    thoughts = JsonReading.ReadCount(ref reader);
                else
                    reader.Skip();
            }
            Usage = new TokenUsage(Sum(prompt, toolUse), Sum(candidates, thoughts));
        }
    }

    private static long? Sum(long? a, long? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);
}
