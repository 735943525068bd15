using FuncKeyOps.Audit;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Relay;

/// <summary>What one relayed call has learnt so far; becomes its audit row however the call ends.</summary>
internal sealed class RelayCall
{
    public required string RequestId { get; init; }
    public required DateTimeOffset Time { get; init; }
    public required string Provider { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    /// <summary>The authenticated relay key, once known; the audit row takes its id and tenant from it.</summary>
    public RelayKey? Key { get; set; }
    /// <summary>The existing key a refused relay key named; the row takes its id and tenant, so guessing at one key shows.</summary>
    public RelayKey? ClaimedKey { get; set; }
    public string? SourceIp { get; set; }
    public string? UserAgent { get; set; }
    public string? ProviderKeyName { get; set; }
    public string? ProviderKeyVersion { get; set; }
    public string? Model { get; set; }
    public int Status { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    public string? BodySha256 { get; set; }
    public long RequestBytes { get; set; }
    public bool Streamed { get; set; }
    public string? ErrorCode { get; set; }
    public int? UpstreamStatus { get; set; }

    public AuditRecord ToRecord(TimeSpan latency) => new()
    {
        RequestId = RequestId,
        Time = Time,
        Tenant = (Key ?? ClaimedKey)?.Tenant,
        RelayKeyId = (Key ?? ClaimedKey)?.Id,
        Provider = Provider,
        ProviderKeyName = ProviderKeyName,
        ProviderKeyVersion = ProviderKeyVersion,
        Model = Model,
        Method = Method,
        Path = Path,
        Status = Status,
        LatencyMs = Math.Round(latency.TotalMilliseconds, 3),
        InputTokens = InputTokens,
        OutputTokens = OutputTokens,
        SourceIp = SourceIp,
        UserAgent = UserAgent,
        BodySha256 = BodySha256,
        RequestBytes = RequestBytes,
        Streamed = Streamed,
        ErrorCode = ErrorCode,
        UpstreamStatus = UpstreamStatus,
    };
}
