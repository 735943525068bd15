using FuncKeyOps.Audit;

namespace FuncKeyOps.Tests.Audit;

internal static class AuditRecords
{
    /// <summary>Every field set, none to its default, so a lost or renamed field shows in a comparison.</summary>
    public static AuditRecord Full(string requestId, DateTimeOffset time, string relayKeyId = "rk-1") => new()
    {
        RequestId = requestId,
        Time = time,
        Tenant = "tenant-a",
        RelayKeyId = relayKeyId,
        Provider = "openai",
        ProviderKeyName = "openai-main",
        ProviderKeyVersion = "v3",
        Model = "gpt-4o-mini",
        Method = "POST",
        Path = "v1/chat/completions",
        Status = 429,
        LatencyMs = 123.25,
        InputTokens = 1200,
        OutputTokens = 345,
        CostEstimateUsd = 0.001234m,
        SourceIp = "203.0.113.7",
        UserAgent = "OpenAI/Python 1.54.0",
        BodySha256 = new string('a', 64),
        RequestBytes = 2048,
        Streamed = true,
        ErrorCode = "upstream_rate_limited",
        UpstreamStatus = 429,
    };

    /// <summary>Only the required fields.</summary>
    public static AuditRecord Minimal(string requestId, DateTimeOffset time) => new()
    {
        RequestId = requestId,
        Time = time,
        Provider = "anthropic",
        Method = "POST",
        Path = "v1/messages",
    };

    public static string NewId() => Guid.NewGuid().ToString("N");
}
