using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>
/// Usage in the Anthropic Messages format: <c>usage</c> on a message, and in a stream on <c>message_start</c>
/// (<c>message.usage</c>: the input, and an output count that is only a start) and <c>message_delta</c>
/// (<c>usage</c>: cumulative counts, so the last one wins; newer API versions repeat the input counts there).
/// Input is <c>input_tokens</c> plus <c>cache_creation_input_tokens</c> and <c>cache_read_input_tokens</c>, which
/// Anthropic reports beside it rather than inside it.
/// </summary>
internal sealed class AnthropicUsageReader : IUsageReader
{
    private static ReadOnlySpan<byte> UsageMarker => "\"usage\""u8;

    // Each part is replaced when an event reports it and kept when it does not: message_delta may report
    // only output_tokens, and must not erase the input message_start reported.
    private long? _input;
    private long? _cacheCreation;
    private long? _cacheRead;
    private long? _output;

    public TokenUsage Usage => new(
        _input is null && _cacheCreation is null && _cacheRead is null ? null : (_input ?? 0) + (_cacheCreation ?? 0) + (_cacheRead ?? 0),
        _output);

    public bool OnSseEvent(ReadOnlySpan<byte> rawEvent)
    {
        using var sse = SseEvent.Parse(rawEvent);
        Read(sse.Data);
        return true;
    }

    public void OnJsonBody(ReadOnlySpan<byte> body) => Read(body);

    private void Read(ReadOnlySpan<byte> json)
    {
        if (!JsonMarkers.HasObjectMember(json, UsageMarker) || !JsonReading.TryStartObject(json, out var reader))
            return;
        try
        {
            ReadMessage(ref reader, nested: false);
        }
        catch (JsonException)
        {
        }
    }

    // A message body or message_delta has usage at the root; message_start has it under "message".
    private void ReadMessage(ref Utf8JsonReader reader, bool nested)
    {
        while (JsonReading.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("usage"u8))
            {
                reader.Read();
                ReadUsage(ref reader);
            }
            else if (!nested && reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                    ReadMessage(ref reader, nested: true);
                else
                    reader.Skip();
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }
        while (JsonReading.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("input_tokens"u8))
                _input = JsonReading.ReadCount(ref reader) ?? _input;
            else if (reader.ValueTextEquals("cache_creation_input_tokens"u8))
                _cacheCreation = JsonReading.ReadCount(ref reader) ?? _cacheCreation;
            else if (reader.ValueTextEquals("cache_read_input_tokens"u8))
                _cacheRead = JsonReading.ReadCount(ref reader) ?? _cacheRead;
            else if (reader.ValueTextEquals("output_tokens"u8))
                _output = JsonReading.ReadCount(ref reader) ?? _output;
            else
                reader.Skip();
        }
    }
}
