using FuncKeyOps.Audit;
using FuncKeyOps.Errors;
using FuncKeyOps.RelayKeys;

namespace FuncKeyOps.Relay;

/// <summary>What one relayed call has learnt so far; becomes its audit row however the call ends.</summary>
internal sealed class RelayCall
{
    public required string RequestId { get; init; }
    /// <summary>When the call began (<see cref="TimeProvider.GetTimestamp"/>): each audit row's latency runs from here.</summary>
    public required long Started { get; init; }
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
    /// <summary>Null until the call is retried on another provider key version (<see cref="RetryOn"/>), then 2.</summary>
    public int? Attempt { get; private set; }

    /// <summary>
    /// Ends the first attempt, which failed with <paramref name="failure"/>, and carries the call on as the second
    /// attempt on <paramref name="otherVersion"/>. One row per attempt, rather than the failed version in extra columns
    /// of the call's row, because rotation's analysis counts errors per version over rows: the failed attempt must be an
    /// error row of ITS version, the served one a success row of the other, with no reader having to know of retries.
    /// The failed row keeps the status and code the client would have had without the retry, so it counts exactly
    /// as an unretried failure does; its id is the call's plus <see cref="AuditRecord.FirstAttemptSuffix"/> (rows are
    /// keyed by id), and the call's own id stays on the row of the answer the client got.
    /// </summary>
    /// <returns>The failed attempt's audit row.</returns>
    public AuditRecord RetryOn(string otherVersion, FuncKeyOpsError failure, int? upstreamStatus, TimeSpan latency)
    {
        var failed = ToRecord(latency) with
        {
            RequestId = RequestId + AuditRecord.FirstAttemptSuffix,
            Status = failure.Status,
            ErrorCode = failure.Code,
            UpstreamStatus = upstreamStatus,
            Attempt = 1,
        };
        ProviderKeyVersion = otherVersion;
        Attempt = 2;
        return failed;
    }

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
        Attempt = Attempt,
    };
}
