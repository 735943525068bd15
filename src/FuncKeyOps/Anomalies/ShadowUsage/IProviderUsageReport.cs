using FuncKeyOps.ProviderKeys;

namespace FuncKeyOps.Anomalies.ShadowUsage;

/// <summary>
/// A provider's own report of what each of its API keys used per hour: the usage no gateway sees. One per connector
/// whose provider publishes it (<c>openai</c>, <c>anthropic</c>). Gemini and Azure OpenAI publish no per-key token
/// report, so there is none for them: the relay-side detectors alone cover those keys.
/// </summary>
internal interface IProviderUsageReport
{
    /// <summary>The connector name of the provider keys it reports on (<see cref="ProviderKeyConfig.Connector"/>).</summary>
    string Connector { get; }

    /// <summary>The id the usage report knows a key version by, from its <c>providerKeyId</c> tag; null when the tag cannot name one.</summary>
    string? UsageKeyId(string providerKeyId);

    /// <summary>
    /// The usage of <paramref name="usageKeyIds"/> in whole UTC hours [<paramref name="from"/>, <paramref name="to"/>), every
    /// page read, with the admin key the key's connector settings name. Never throws for the provider or the vault
    /// failing: that is <see cref="ProviderUsageAnswer.Failure"/>, retried by the next run.
    /// </summary>
    Task<ProviderUsageAnswer> ReadAsync(ProviderKeyConfig key, IReadOnlyCollection<string> usageKeyIds, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken);
}

/// <summary>One key's usage in one hour as its provider reports it. <see cref="Requests"/> is null where the report has no request count (Anthropic's).</summary>
internal sealed record ProviderHourUsage(long? Requests, long InputTokens, long OutputTokens)
{
    public long TotalTokens => InputTokens + OutputTokens;

    public static readonly ProviderHourUsage None = new(0, 0, 0);

    public ProviderHourUsage Add(ProviderHourUsage other) => new(
        Requests is null && other.Requests is null ? null : (Requests ?? 0) + (other.Requests ?? 0),
        InputTokens + other.InputTokens,
        OutputTokens + other.OutputTokens);
}

/// <summary>A usage report read: usage by (key id, hour start), or why it could not be read (never a key or a key's part).</summary>
internal sealed record ProviderUsageAnswer(IReadOnlyDictionary<(string UsageKeyId, DateTimeOffset Hour), ProviderHourUsage> Usage, string? Failure)
{
    public static ProviderUsageAnswer Failed(string failure) => new(new Dictionary<(string, DateTimeOffset), ProviderHourUsage>(), failure);
}
