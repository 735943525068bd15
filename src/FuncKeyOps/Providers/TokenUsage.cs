namespace FuncKeyOps.Providers;

/// <summary>Usage reported by the provider. Null members were not reported.</summary>
public readonly record struct TokenUsage(long? InputTokens, long? OutputTokens)
{
    public long Total => (InputTokens ?? 0) + (OutputTokens ?? 0);
}
