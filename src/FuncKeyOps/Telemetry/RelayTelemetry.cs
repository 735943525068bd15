using System.Diagnostics;
using System.Diagnostics.Metrics;
using FuncKeyOps.ProviderKeys;
using FuncKeyOps.Relay;
using FuncKeyOps.Secrets;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// A relay call's span and metrics, written from what its audit row holds (<see cref="RelayCall"/>), so they carry
/// exactly what the audit already vetted: the redacted path and model, never a key value, a body or a query string.
/// With no listener the span is never created and no tag list built: the relay's hot path pays two null checks.
/// </summary>
public sealed class RelayTelemetry
{
    public const string RelayKeyId = "fko.relay_key.id";
    public const string Tenant = "fko.tenant";
    public const string ProviderKeyName = "fko.provider_key.name";
    public const string ProviderKeyVersion = "fko.provider_key.version";
    public const string Pool = "fko.pool";
    public const string Attempts = "fko.attempts";
    public const string RequestId = "fko.request_id";
    public const string RefusalsMetric = "fko.relay.refusals";
    public const string CacheStalenessMetric = "fko.cache.staleness";

    private readonly Histogram<long> _tokens;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _refusals;

    public RelayTelemetry(IMeterFactory meters, ProviderKeyRegistry registry, SecretCache secrets)
    {
        var meter = meters.Create(FuncKeyOpsTelemetry.ServiceName);
        _tokens = meter.CreateHistogram(GenAiConventions.TokenUsageMetric, "{token}", "Input and output tokens of relayed calls, as the provider reported them.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = GenAiConventions.TokenBuckets });
        _duration = meter.CreateHistogram(GenAiConventions.OperationDurationMetric, "s", "Duration of relayed calls, to the last byte.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = GenAiConventions.DurationBuckets });
        _refusals = meter.CreateCounter<long>(RefusalsMetric, "{call}", "Relay calls answered with an error, by its code (error.type).");
        // Zero while the stores answer; otherwise how long past its time to live the copy the relay serves is.
        meter.CreateObservableGauge(CacheStalenessMetric, () => new[]
        {
            new Measurement<double>(registry.ServedStaleBeyondTimeToLive.TotalSeconds, new KeyValuePair<string, object?>("fko.cache", "provider_keys")),
            new Measurement<double>(secrets.ServedStaleBeyondTimeToLive.TotalSeconds, new KeyValuePair<string, object?>("fko.cache", "secrets")),
        }, "s", "How far past its time to live the cached copy last served stale was (provider-key registry, Key Vault secrets).");
    }

    /// <summary>The call's span, or null when nobody listens. Internal: the host's request span (ASP.NET Core, the Functions invocation) is the server span.</summary>
    internal static Activity? Start() => FuncKeyOpsTelemetry.Source.StartActivity("relay", ActivityKind.Internal);

    /// <summary>Describes and ends the span and records the metrics; before the audit row is enqueued, so whoever sees the row sees the span.</summary>
    internal void Finish(Activity? span, RelayCall call, TimeSpan elapsed)
    {
        var recordDuration = _duration.Enabled;
        var recordTokens = _tokens.Enabled && (call.InputTokens is not null || call.OutputTokens is not null);
        var countRefusal = _refusals.Enabled && call.ErrorCode is not null;
        if (span is null && !recordDuration && !recordTokens && !countRefusal)
            return;

        var provider = GenAiConventions.Provider(call.Provider);
        var operation = GenAiConventions.Operation(call.Path);
        if (span is not null)
        {
            Describe(span, call, provider, operation);
            span.Stop();
        }

        var tags = new TagList
        {
            { GenAiConventions.ProviderName, provider },
            // Dimensions are bounded sets only: the model as MetricModel maps it, the error code from the catalogue,
            // the operation from a fixed list; never the path or a header.
            { GenAiConventions.RequestModel, MetricModel.For(call) },
            { GenAiConventions.OperationName, operation },
        };
        if (recordTokens)
        {
            if (call.InputTokens is { } input)
                _tokens.Record(input, Tokens(tags, "input"));
            if (call.OutputTokens is { } output)
                _tokens.Record(output, Tokens(tags, "output"));
        }
        if (call.ErrorCode is { } code)
            tags.Add(GenAiConventions.ErrorType, code);
        if (recordDuration)
            _duration.Record(elapsed.TotalSeconds, tags);
        if (countRefusal)
            _refusals.Add(1, tags);
    }

    private static TagList Tokens(TagList tags, string type)
    {
        var withType = tags;
        withType.Add(GenAiConventions.TokenType, type);
        return withType;
    }

    private static void Describe(Activity span, RelayCall call, string provider, string? operation)
    {
        span.DisplayName = operation is null ? $"relay {call.Provider}" : $"{operation} {call.Provider}";
        span.SetTag(GenAiConventions.ProviderName, provider);
        span.SetTag(GenAiConventions.OperationName, operation);
        span.SetTag(GenAiConventions.RequestModel, call.Model);
        span.SetTag(GenAiConventions.ResponseStatusCode, call.Status);
        span.SetTag(RequestId, call.RequestId);
        if ((call.Key ?? call.ClaimedKey) is { } key)
        {
            span.SetTag(RelayKeyId, key.Id);
            span.SetTag(Tenant, key.Tenant);
        }
        span.SetTag(ProviderKeyName, call.ProviderKeyName);
        span.SetTag(ProviderKeyVersion, call.ProviderKeyVersion);
        span.SetTag(Pool, call.Pool);
        if (call.ProviderKeyName is not null)
            span.SetTag(Attempts, call.Attempt ?? 1);
        span.SetTag(GenAiConventions.InputTokens, call.InputTokens);
        span.SetTag(GenAiConventions.OutputTokens, call.OutputTokens);
        if (call.ErrorCode is { } code)
        {
            span.SetTag(GenAiConventions.ErrorType, code);
            span.SetStatus(ActivityStatusCode.Error, code);
        }
    }
}
