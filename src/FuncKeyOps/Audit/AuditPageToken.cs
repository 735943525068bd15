using System.Buffers.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FuncKeyOps.Audit;

/// <summary>
/// Where the next newest-first page of <c>GET audit</c> starts: the window and filter it belongs to, the last row
/// returned (time and row key; the rows after it in the order are older), and a span to read first, learnt from
/// how densely the previous page found rows. Base64url JSON, so it travels in a query string as is; it names no
/// secret, and a forged one can only move the position inside the window the caller may read anyway.
/// </summary>
internal sealed record AuditPageToken
{
    [JsonPropertyName("f")] public required long FromTicks { get; init; }
    [JsonPropertyName("t")] public required long ToTicks { get; init; }
    [JsonPropertyName("k")] public string? RelayKeyId { get; init; }
    [JsonPropertyName("c")] public required long CursorTicks { get; init; }
    [JsonPropertyName("r")] public required string CursorRowKey { get; init; }
    [JsonPropertyName("s")] public required long SpanSeconds { get; init; }

    public DateTimeOffset From => new(FromTicks, TimeSpan.Zero);
    public DateTimeOffset To => new(ToTicks, TimeSpan.Zero);
    public DateTimeOffset Cursor => new(CursorTicks, TimeSpan.Zero);

    private static readonly JsonSerializerOptions Json = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string Encode() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this, Json));

    /// <summary>False for anything <see cref="Encode"/> did not make, or made with values that cannot be right.</summary>
    public static bool TryDecode(string text, out AuditPageToken token)
    {
        token = null!;
        AuditPageToken? decoded;
        try
        {
            decoded = JsonSerializer.Deserialize<AuditPageToken>(Base64Url.DecodeFromChars(text), Json);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return false;
        }
        if (decoded is null
            || decoded.FromTicks is < 0 || decoded.ToTicks > DateTime.MaxValue.Ticks || decoded.FromTicks > decoded.ToTicks
            || decoded.CursorTicks < decoded.FromTicks || decoded.CursorTicks >= decoded.ToTicks
            || decoded.SpanSeconds is < 1 or > AuditQuery.MaxSpanSeconds
            || decoded.CursorRowKey.Length is 0 or > 1024)
        {
            return false;
        }
        token = decoded;
        return true;
    }
}
