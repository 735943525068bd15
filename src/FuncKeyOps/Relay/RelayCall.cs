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
    /// <summary>The pool the route came from, if any: for the call's span (the audit row names the key, not the pool).</summary>
    public string? Pool { get; set; }
    public string? ProviderKeyVersion { get; set; }
    public string? Model { get; set; }
    /// <summary>The model passed the relay key's allow-list (or the key has none): only then may metrics name it (<see cref="Telemetry.MetricModel"/>).</summary>
    public bool ModelAllowed { get; set; }
    public int Status { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    /// <summary>The tokens are partly or wholly <see cref="TokenEstimate"/>'s: the provider's usage never arrived.</summary>
    public bool TokensEstimated { get; set; }
    /// <summary>An attempt of this call went to the provider (which may bill it, answered or not).</summary>
    public bool SentUpstream { get; set; }
    /// <summary>Bytes of the provider's answer relayed so far, and of its SSE events (for <see cref="TokenEstimate"/>).</summary>
    public long ResponseBytes { get; set; }
    public long ResponseEvents { get; set; }
    public string? BodySha256 { get; set; }
    public long RequestBytes { get; set; }
    public bool Streamed { get; set; }
    public string? ErrorCode { get; set; }
    public int? UpstreamStatus { get; set; }
    /// <summary>
    /// The provider key whose limits the served call counts against (<see cref="Routing.IProviderKeyLimiter.RecordUsage"/>);
    /// set when an attempt with it is sent.
    /// </summary>
    public ProviderKeys.ProviderKeyConfig? ServingKey { get; set; }
    /// <summary>
    /// Null while the call has made one attempt; else the number of the attempt this row describes: after a retry on
    /// another version (<see cref="RetryOn"/>) or a failover to another pool member (<see cref="FailedAttempt"/>).
    /// </summary>
    public int? Attempt { get; set; }

    /// <summary>
    /// Ends the first attempt, which failed with <paramref name="failure"/>, and carries the call on as the second
    /// attempt on <paramref name="otherVersion"/>. One row per attempt, rather than the failed version in extra columns
    /// of the call's row, because rotation's analysis counts errors per version over rows: the failed attempt must be an
    /// error row of ITS version, the served one a success row of the other, with no reader having to know of retries.
    /// </summary>
    /// <returns>The failed attempt's audit row.</returns>
    public AuditRecord RetryOn(string otherVersion, FuncKeyOpsError failure, int? upstreamStatus, TimeSpan latency)
    {
        var failed = FailedAttempt(1, ProviderKeyName, ProviderKeyVersion, failure, upstreamStatus, latency);
        ProviderKeyVersion = otherVersion;
        Attempt = 2;
        return failed;
    }

    /// <summary>
    /// The row of attempt <paramref name="number"/>, which failed with <paramref name="failure"/> on a provider key
    /// version, when another attempt answered the client (or will). It keeps the status and code the client would have
    /// had without the next attempt, so it counts exactly as an unretried failure does for that key and version; its id
    /// is the call's plus <c>.{number}</c> (rows are keyed by id; <see cref="AuditRecord.FirstAttemptSuffix"/> for the
    /// first), and the call's own id stays on the row of the answer the client got.
    /// </summary>
    public AuditRecord FailedAttempt(int number, string? providerKeyName, string? providerKeyVersion, FuncKeyOpsError failure, int? upstreamStatus, TimeSpan latency) =>
        ToRecord(latency) with
        {
            RequestId = $"{RequestId}.{number}",
            ProviderKeyName = providerKeyName,
            ProviderKeyVersion = providerKeyVersion,
            Status = failure.Status,
            ErrorCode = failure.Code,
            UpstreamStatus = upstreamStatus,
            Attempt = number,
            InputTokens = null,
            OutputTokens = null,
            TokensEstimated = false,
        };

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
        TokensEstimated = TokensEstimated,
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
