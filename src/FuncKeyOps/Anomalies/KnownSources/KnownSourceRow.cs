using Azure;
using Azure.Data.Tables;

namespace FuncKeyOps.Anomalies.KnownSources;

/// <summary>
/// One source of one relay key as its <c>knownsources</c> row: RowKey the source escaped (an IPv6 /64 holds '/', which
/// a key may not), <see cref="LastSeen"/> the start of the latest window it was seen in, <see cref="PreviousSeen"/> the
/// sighting before that.
/// </summary>
internal sealed record KnownSourceRow(string RelayKeyId, string Source, DateTimeOffset LastSeen, DateTimeOffset? PreviousSeen, ETag ETag)
{
    public static readonly string[] Columns = ["PartitionKey", "RowKey", nameof(Source), nameof(LastSeen), nameof(PreviousSeen)];

    public static KnownSourceRow First(string relayKeyId, string source, DateTimeOffset windowStart) => new(relayKeyId, source, windowStart, null, default);

    /// <summary>Seen again in the window starting at <paramref name="windowStart"/> (later than <see cref="LastSeen"/>).</summary>
    public KnownSourceRow SeenIn(DateTimeOffset windowStart) => this with { LastSeen = windowStart, PreviousSeen = LastSeen };

    /// <summary>Whether a sighting recorded here lies in [<paramref name="since"/>, <paramref name="before"/>).</summary>
    public bool SeenBetween(DateTimeOffset since, DateTimeOffset before) =>
        (LastSeen >= since && LastSeen < before) || (PreviousSeen is { } previous && previous >= since && previous < before);

    public TableEntity ToEntity() => new(RelayKeyId, Uri.EscapeDataString(Source))
    {
        [nameof(Source)] = Source,
        [nameof(LastSeen)] = LastSeen.ToUniversalTime(),
        [nameof(PreviousSeen)] = PreviousSeen?.ToUniversalTime(),
    };

    public static KnownSourceRow From(TableEntity entity) => new(
        entity.PartitionKey,
        entity.GetString(nameof(Source)) ?? Uri.UnescapeDataString(entity.RowKey),
        entity.GetDateTimeOffset(nameof(LastSeen)) ?? DateTimeOffset.MinValue,
        entity.GetDateTimeOffset(nameof(PreviousSeen)),
        entity.ETag);
}
