using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>Reads Google's error body, <c>{"error":{"code","message","status","details":[{"@type","reason",...}]}}</c>.</summary>
internal static class GoogleErrors
{
    /// <summary>True when one of the error's details (an ErrorInfo) has <c>reason</c> <paramref name="reason"/>.</summary>
    public static bool HasReason(ReadOnlySpan<byte> body, string reason)
    {
        if (!JsonReading.TryStartObject(body, out var reader))
            return false;
        try
        {
            while (JsonReading.NextMember(ref reader))
            {
                if (!reader.ValueTextEquals("error"u8))
                {
                    reader.Skip();
                    continue;
                }
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                    return false;
                while (JsonReading.NextMember(ref reader))
                {
                    if (!reader.ValueTextEquals("details"u8))
                    {
                        reader.Skip();
                        continue;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                        return false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            reader.Skip();
                            continue;
                        }
                        while (JsonReading.NextMember(ref reader))
                        {
                            var isReason = reader.ValueTextEquals("reason"u8);
                            reader.Read();
                            if (isReason && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(reason))
                                return true;
                            reader.Skip();
                        }
                    }
                    return false;
                }
                return false;
            }
            return false;
        }
        catch (JsonException)
        {
            return false; // a provider error page that is not JSON is passed on as it is
        }
    }
}
