namespace FuncKeyOps.Audit;

/// <summary>
/// One relayed call, or one failed attempt of a call retried on another provider key version (<see cref="Attempt"/>).
/// Never a secret or a prompt: the body is represented by its SHA-256 only.
/// </summary>
public sealed record AuditRecord
{
    public required string RequestId { get; init; }
    public required DateTimeOffset Time { get; init; }
    public string? Tenant { get; init; }
    public string? RelayKeyId { get; init; }
    public required string Provider { get; init; }
    public string? ProviderKeyName { get; init; }
    public string? ProviderKeyVersion { get; init; }
    public string? Model { get; init; }
    public required string Method { get; init; }
    public required string Path { get; init; }
    public int Status { get; init; }
    public double LatencyMs { get; init; }
    public long? InputTokens { get; init; }
    public long? OutputTokens { get; init; }
    /// <summary>
    /// The tokens are the relay's estimate, not the provider's report: the attempt was abandoned at the upstream timeout
    /// or its stream cut before the usage arrived (input from the request's size, output from what was streamed).
    /// They count against budgets and TPM ceilings all the same.
    /// </summary>
    public bool TokensEstimated { get; init; }
    public decimal? CostEstimateUsd { get; init; }
    public string? SourceIp { get; init; }
    public string? UserAgent { get; init; }
    public string? BodySha256 { get; init; }
    public long RequestBytes { get; init; }
    public bool Streamed { get; init; }
    /// <summary>Our error code when the relay answered itself (e.g. <c>invalid_relay_key</c>, <c>upstream_timeout</c>).</summary>
    public string? ErrorCode { get; init; }
    /// <summary>
    /// The provider's status when the relay answered in its place (the 401 behind <c>provider_key_rejected</c>,
    /// the 5xx behind <c>upstream_error</c>); null when the provider's answer reached the client as it was.
    /// </summary>
    public int? UpstreamStatus { get; init; }
    /// <summary>
    /// Null for a call with one attempt. A call the relay retried on the other provider key version (see
    /// <c>RelayHandler</c>) has two rows: 1 on the failed first attempt's row, whose request id is the call's plus
    /// <see cref="FirstAttemptSuffix"/>, and 2 on the row of the attempt that answered the client, which keeps the call's id.
    /// A call that failed over between pool members has one row per failed attempt (<c>.1</c>, <c>.2</c>, ..., each
    /// naming its member) and the call's own row with the last attempt's number.
    /// </summary>
    public int? Attempt { get; init; }

    /// <summary>Appended to a retried call's request id for the row of its failed first attempt.</summary>
    public const string FirstAttemptSuffix = ".1";
}
