namespace FuncKeyOps.Relay;

public sealed class RelayOptions
{
    public const string Section = "Relay";

    /// <summary>Largest request body relayed; larger ones get 413 without reaching the provider.</summary>
    public long MaxRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>How long to wait for the provider's response headers (per attempt) before answering 504.</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Longest the provider may send nothing in the middle of a response body (SSE or not); the clock restarts with every
    /// read that brings bytes. Past it the client's stream is ended as broken and the call audited <c>upstream_stalled</c>.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Retries of 429/5xx/connection failures, only before the first byte reaches the client.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Base delay of the jittered exponential backoff between retries.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A Retry-After longer than this is not waited out: the client gets the provider's answer at once.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Peers (CIDR) whose X-Forwarded-For is believed, e.g. the Azure Functions front end. Others' headers are ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>The per-member circuit breakers of routes with several provider keys (pools), <c>Relay:Circuit:*</c>.</summary>
    public MemberCircuitOptions Circuit { get; set; } = new();
}

/// <summary>
/// When a member of a pool is taken out of its rotation (<see cref="ProviderKeyCircuits"/>): the Polly circuit breaker's
/// settings, one breaker per provider key and instance.
/// </summary>
public sealed class MemberCircuitOptions
{
    /// <summary>Share of failed attempts (429, 5xx, connection failure, timeout) in <see cref="SamplingDuration"/> that opens it.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Attempts in <see cref="SamplingDuration"/> before the ratio counts (Polly's minimum is 2).</summary>
    public int MinimumThroughput { get; set; } = 2;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a member is out when the failure that opened it named no Retry-After; then one probe call.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest a provider's Retry-After may take a member out: a huge one (hours) is cut to this, with a warning, so a
    /// member is never out for long without anybody knowing.
    /// </summary>
    public TimeSpan MaxBreakDuration { get; set; } = TimeSpan.FromMinutes(5);
}
