namespace FuncKeyOps.Testing.Providers;

/// <summary>
/// What a fake provider bills: one entry per model call it answered (a 2xx it began to send, a stream cut midway
/// included, as the real providers bill what they generated), under the provider's id of the key that made it. The
/// fake's usage APIs (<see cref="FakeOpenAIUsage"/>, <see cref="FakeAnthropicUsage"/>) report from here, so a call sent
/// straight to a fake with a key is in its usage report as it would be at the provider.
/// </summary>
/// <remarks>
/// <see cref="Clock"/> dates the calls (a test's FakeTimeProvider puts them in the hour it means);
/// <see cref="ReportingLag"/> keeps a call out of the reports until that long after it; <see cref="FailReports"/> makes
/// the usage APIs answer an error.
/// </remarks>
public sealed class FakeBilling
{
    private readonly object _gate = new();
    private readonly List<FakeBilledUsage> _entries = [];
    private TimeProvider _clock = TimeProvider.System;
    private TimeSpan _lag;
    private int? _failStatus;

    /// <summary>Dates billed calls and decides what the reports show yet; the wall clock unless a test sets one.</summary>
    public TimeProvider Clock
    {
        get { lock (_gate) return _clock; }
        set { lock (_gate) _clock = value ?? throw new ArgumentNullException(nameof(value)); }
    }

    /// <summary>How long after a call its usage first shows in a report (the real reports run minutes behind).</summary>
    public TimeSpan ReportingLag
    {
        get { lock (_gate) return _lag; }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            lock (_gate) _lag = value;
        }
    }

    /// <summary>Every usage report request is answered <paramref name="statusCode"/> with the provider's error body until <see cref="ReportsWork"/>.</summary>
    public void FailReports(int statusCode = 500)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(statusCode, 400);
        lock (_gate) _failStatus = statusCode;
    }

    public void ReportsWork()
    {
        lock (_gate) _failStatus = null;
    }

    /// <summary>The status the usage reports answer now; null while they work.</summary>
    public int? FailingWith
    {
        get { lock (_gate) return _failStatus; }
    }

    /// <summary>Everything billed so far, reported or not yet.</summary>
    public IReadOnlyList<FakeBilledUsage> Entries
    {
        get { lock (_gate) return _entries.ToArray(); }
    }

    /// <summary>
    /// Usage billed without a call through the fake: many hours at once (a report longer than one page), cache tokens,
    /// or Console use (<paramref name="apiKeyId"/> null).
    /// </summary>
    public void Add(FakeBilledUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        lock (_gate) _entries.Add(usage);
    }

    internal void Record(string? apiKeyId, string kind, string? model, long inputTokens, long outputTokens)
    {
        lock (_gate)
            _entries.Add(new FakeBilledUsage(_clock.GetUtcNow(), kind, apiKeyId, model, 1, inputTokens, outputTokens));
    }

    /// <summary>What the report shows now: entries of <paramref name="kind"/> in [from, to) whose lag has passed.</summary>
    internal IReadOnlyList<FakeBilledUsage> Reported(string kind, DateTimeOffset from, DateTimeOffset to)
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            return _entries.Where(e => e.Kind == kind && e.At >= from && e.At < to && e.At + _lag <= now).ToArray();
        }
    }
}

/// <summary>
/// Billed usage: <paramref name="Requests"/> calls at <paramref name="At"/> by the key the provider knows as
/// <paramref name="ApiKeyId"/>. <paramref name="InputTokens"/> is all input, cache reads and writes included (as OpenAI
/// counts it); Anthropic's report splits it into uncached, cache-read and cache-write parts.
/// </summary>
public sealed record FakeBilledUsage(
    DateTimeOffset At,
    string Kind,
    string? ApiKeyId,
    string? Model,
    long Requests,
    long InputTokens,
    long OutputTokens,
    long CacheReadInputTokens = 0,
    long CacheCreation5mInputTokens = 0,
    long CacheCreation1hInputTokens = 0)
{
    /// <summary>OpenAI's <c>/v1/organization/usage/completions</c> (chat completions and responses).</summary>
    public const string Completions = "completions";

    /// <summary>OpenAI's <c>/v1/organization/usage/embeddings</c>.</summary>
    public const string Embeddings = "embeddings";

    /// <summary>Anthropic's messages usage report.</summary>
    public const string Messages = "messages";

    public long UncachedInputTokens => InputTokens - CacheReadInputTokens - CacheCreation5mInputTokens - CacheCreation1hInputTokens;
}
