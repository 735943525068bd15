using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>
/// Usage in the OpenAI wire format, shared by OpenAI and Azure OpenAI: chat completions and embeddings
/// (<c>usage.prompt_tokens</c> / <c>completion_tokens</c>), the Responses API (<c>usage.input_tokens</c> /
/// <c>output_tokens</c>), and their streams: the chat stream's final chunk (<c>choices: []</c> and a usage object,
/// sent only with <c>stream_options.include_usage</c>), and the Responses stream's terminal event
/// (<c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c>, usage under <c>response</c>).
/// </summary>
internal sealed class OpenAIUsageReader(bool stripUsageOnlyChunk) : IUsageReader
{
    private static ReadOnlySpan<byte> UsageMarker => "\"usage\""u8;

    public TokenUsage Usage { get; private set; }

    public bool OnSseEvent(ReadOnlySpan<byte> rawEvent)
    {
        using var sse = SseEvent.Parse(rawEvent);
        var data = sse.Data;
        // Content chunks, "usage":null chunks, [DONE] and comments: no parse.
        if (!JsonMarkers.HasObjectMember(data, UsageMarker) || !JsonReading.TryStartObject(data, out var reader))
            return true;
        try
        {
            var usageOnly = ReadEvent(ref reader);
            return !(usageOnly && stripUsageOnlyChunk);
        }
        catch (JsonException)
        {
            return true;
        }
    }

    public void OnJsonBody(ReadOnlySpan<byte> body)
    {
        if (!JsonMarkers.HasObjectMember(body, UsageMarker) || !JsonReading.TryStartObject(body, out var reader))
            return;
        try
        {
            ReadEvent(ref reader);
        }
        catch (JsonException)
        {
        }
    }

    /// <summary>Reads usage from a root object; true when it is a chat chunk that carries nothing but usage.</summary>
    private bool ReadEvent(ref Utf8JsonReader reader)
    {
        var hasUsage = false;
        var hasChoices = false;
        while (JsonReading.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                hasUsage |= TryReadUsage(ref reader);
            }
            else if (reader.ValueTextEquals("choices"u8))
            {
                reader.Read();
                hasChoices = IsNonEmptyArray(ref reader);
            }
            else if (reader.ValueTextEquals("response"u8))
            {
                reader.Read();
                ReadResponse(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
        return hasUsage && !hasChoices;
    }

    // A Responses stream event: the response object, whose usage is null until the terminal event.
    private void ReadResponse(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (JsonReading.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                TryReadUsage(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private bool TryReadUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }
        long? prompt = null, completion = null, input = null, output = null;
        while (JsonReading.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("prompt_tokens"u8))
                prompt = JsonReading.ReadCount(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8))
                completion = JsonReading.ReadCount(ref reader);
            else if (reader.ValueTextEquals("input_tokens"u8))
                input = JsonReading.ReadCount(ref reader);
            else if (reader.ValueTextEquals("output_tokens"u8))
                output = JsonReading.ReadCount(ref reader);
            else
                reader.Skip();
        }
        // Cached and reasoning tokens are already inside these totals (the *_details members break them down).
        Usage = new TokenUsage(prompt ?? input, completion ?? output);
        return true;
    }

    private static bool IsNonEmptyArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return false;
        }
        var peek = reader;
        var empty = peek.Read() && peek.TokenType == JsonTokenType.EndArray;
        reader.Skip();
        return !empty;
    }
}
