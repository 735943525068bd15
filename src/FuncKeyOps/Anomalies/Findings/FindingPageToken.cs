using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuncKeyOps.Anomalies.Findings;

/// <summary>
/// Where the next newest-first page of <c>GET findings</c> starts: the query it belongs to, the last id returned (the
/// ids after it in the order sort below it), and the span of windows to read first, learnt from how densely the
/// previous page found findings. Base64url JSON, so it travels in a query string as is; it names no secret, and a
/// forged one can only move the position inside a list the caller may read anyway.
/// </summary>
internal sealed record FindingPageToken
{
    [JsonPropertyName("f")] public required long FromTicks { get; init; }
    [JsonPropertyName("t")] public required long ToTicks { get; init; }
    [JsonPropertyName("st")] public FindingStatus? Status { get; init; }
    [JsonPropertyName("d")] public string? Detector { get; init; }
    [JsonPropertyName("su")] public string? Subject { get; init; }
    [JsonPropertyName("c")] public required string Cursor { get; init; }
    [JsonPropertyName("s")] public required long SpanMinutes { get; init; }

    public FindingQuery Query => new(new(FromTicks, TimeSpan.Zero), new(ToTicks, TimeSpan.Zero), Status, Detector, Subject);

    private static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static FindingPageToken For(FindingQuery query, string cursor, TimeSpan span) => new()
    {
        FromTicks = query.From.UtcTicks,
        ToTicks = query.To.UtcTicks,
        Status = query.Status,
        Detector = query.Detector,
        Subject = query.Subject,
        Cursor = cursor,
        SpanMinutes = (long)Math.Ceiling(span.TotalMinutes),
    };

    public string Encode() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this, Json));

    /// <summary>False for anything <see cref="Encode"/> did not make, or made with values that cannot be right.</summary>
    public static bool TryDecode(string text, out FindingPageToken token)
    {
        token = null!;
        FindingPageToken? decoded;
        try
        {
            decoded = JsonSerializer.Deserialize<FindingPageToken>(Base64Url.DecodeFromChars(text), Json);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return false;
        }
        if (decoded is null
            || decoded.FromTicks is < 0 || decoded.ToTicks > DateTime.MaxValue.Ticks || decoded.FromTicks > decoded.ToTicks
            || decoded.Status is { } status && !Enum.IsDefined(status)
            || !FindingRows.TryPartitionOf(decoded.Cursor, out _)
            || decoded.SpanMinutes is < 5 or > FindingStore.MaxSpanMinutes)
        {
            return false;
        }
        token = decoded;
        return true;
    }
}
