using System.Text.Json;

namespace FuncKeyOps.Providers;

/// <summary>Reads Google's error body, <c>{"error":{"code","message","status","details":[{"@type","reason",...}]}}</c>.</summary>
internal static class GoogleErrors
{
    /// <summary>True when one of the error's details (an ErrorInfo) has <c>reason</c> <paramref name="reason"/>.</summary>
    /// <remarks>A document is fine here: only error answers (a few hundred bytes) are read.</remarks>
    public static bool HasReason(ReadOnlySpan<byte> body, string reason)
    {
        try
        {
            var reader = new Utf8JsonReader(body, JsonReading.Options);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Array
                && details.EnumerateArray().Any(detail => detail.ValueKind == JsonValueKind.Object
                    && detail.TryGetProperty("reason", out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(reason));
        }
        catch (JsonException)
        {
            return false; // an error page that is not JSON is passed on as it is
        }
    }
}
