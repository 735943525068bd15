using FuncKeyOps.Providers;

namespace FuncKeyOps.Telemetry;

/// <summary>
/// The OpenTelemetry GenAI semantic conventions' names (development status; the attributes of semconv 1.37+, where
/// <c>gen_ai.provider.name</c> replaced <c>gen_ai.system</c>) and how the relay's calls map onto them.
/// </summary>
internal static class GenAiConventions
{
    public const string ProviderName = "gen_ai.provider.name";
    public const string OperationName = "gen_ai.operation.name";
    public const string RequestModel = "gen_ai.request.model";
    public const string InputTokens = "gen_ai.usage.input_tokens";
    public const string OutputTokens = "gen_ai.usage.output_tokens";
    public const string TokenType = "gen_ai.token.type";
    public const string ErrorType = "error.type";
    public const string ResponseStatusCode = "http.response.status_code";

    public const string TokenUsageMetric = "gen_ai.client.token.usage";
    public const string OperationDurationMetric = "gen_ai.client.operation.duration";

    // The buckets the conventions ask for, so dashboards built for them read ours.
    public static readonly IReadOnlyList<long> TokenBuckets =
        [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    /// <summary>The conventions' well-known provider value for one of our route names; an unknown one as it is.</summary>
    public static string Provider(string routeName) => routeName switch
    {
        ProviderNames.OpenAI => "openai",
        ProviderNames.AzureOpenAI => "azure.ai.openai",
        ProviderNames.Anthropic => "anthropic",
        ProviderNames.Gemini => "gcp.gemini",
        _ => routeName,
    };

    /// <summary>The conventions' operation for a provider API path, where the path says; null otherwise.</summary>
    public static string? Operation(string path)
    {
        var trimmed = path.AsSpan().TrimEnd('/');
        if (trimmed.EndsWith("chat/completions", StringComparison.Ordinal) || trimmed.EndsWith("messages", StringComparison.Ordinal)
            || trimmed.EndsWith("responses", StringComparison.Ordinal))
            return "chat";
        if (trimmed.EndsWith("completions", StringComparison.Ordinal))
            return "text_completion";
        if (trimmed.EndsWith("embeddings", StringComparison.Ordinal) || trimmed.EndsWith(":embedContent", StringComparison.Ordinal)
            || trimmed.EndsWith(":batchEmbedContents", StringComparison.Ordinal))
            return "embeddings";
        if (trimmed.EndsWith(":generateContent", StringComparison.Ordinal) || trimmed.EndsWith(":streamGenerateContent", StringComparison.Ordinal))
            return "generate_content";
        return null;
    }
}
