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
}
